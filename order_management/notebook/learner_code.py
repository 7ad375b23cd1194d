"""What notebook 07 shows about the learner's own workflow code, besides the SDK's answers.

The cells write the learner's modules (`%%writefile`), build the `Worker`, run the
`Replayer` and start the orders themselves; these helpers only display:

- `mistake_expected()`: a cell that makes a mistake on purpose prints the one line the kernel
  shows for it, instead of failing (so Run All carries on past the demonstration);
- `replay_line()`: a `Replayer` result in one line, naming the event where the code and the
  history part ways;
- `side_by_side()`: what several orders did, one column each.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd
from temporalio.client import WorkflowHistory
from temporalio.worker import WorkflowReplayResult

from order_management.history import history_frame, replay_failure_reason
from order_management.notebook.cell_errors import brief

_QUIET_EVENTS = (
    "WorkflowTaskScheduled",
    "WorkflowTaskStarted",
    "WorkflowTaskCompleted",
    "ActivityTaskStarted",
    "ActivityTaskCompleted",
)
"""Events `side_by_side` leaves out: the bookkeeping between two decisions."""
LABEL_WIDTH = 70


@contextmanager
def mistake_expected() -> Iterator[None]:
    """Run a block that is meant to fail and print the one line the kernel would show for
    its error (`cell_errors.brief`), so the cell does not fail. Says so if nothing failed."""
    try:
        yield
    except Exception as error:  # any mistake: the kernel's own line for it, or its message
        print(f"The mistake, as the kernel shows it: {brief(error)}", file=sys.stderr)
    else:
        print("No mistake this time: the block ran without an error.")


def replay_line(history: WorkflowHistory, result: WorkflowReplayResult) -> str:
    """One line for a `Replayer` run over `history` (made with `raise_on_replay_failure=False`):
    it replays, or where the code and the history disagree, and the reason."""
    who = history.workflow_id
    if result.replay_failure is None:
        return (
            f"{who}: replays on this code: it makes the decisions its "
            f"{len(history.events)} events recorded, in the same order"
        )
    reason = replay_failure_reason(result.replay_failure)
    event = _event_named_by(history, reason)
    where = f" at event {event}" if event else ""
    return f"{who}: does NOT replay on this code{where}: {reason}"


def _event_named_by(history: WorkflowHistory, reason: str) -> str | None:
    """The history event a nondeterminism reason is about, e.g. "5 (ActivityTaskScheduled
    check_stock)". The core names the activity or the patch, not the event: this is the first
    event of that activity (or patch), which is where a step added or moved before it parts
    ways with the history."""
    frame = history_frame(history)
    activity = re.search(r"scheduled event '([^']+)'", reason)
    patch = re.search(r"patch marker encountered for change ([\w.-]+)", reason)
    if activity:
        rows = frame[
            (frame["event_type"] == "ActivityTaskScheduled") & (frame["activity"] == activity[1])
        ]
    elif patch:
        rows = frame[
            (frame["event_type"] == "MarkerRecorded")
            & frame["details"].str.contains(f'"{patch[1]}"', regex=False)
        ]
    else:
        return None
    if rows.empty:
        return None
    row = rows.iloc[0]
    what = row["activity"] if activity else f"patch {patch[1]}"
    return f"{row['event_id']} ({row['event_type']} {what})"


def side_by_side(histories: Mapping[str, WorkflowHistory]) -> pd.DataFrame:
    """What each order did, one column per order, one decision or message per row: the
    activities it scheduled, the markers and signals recorded, failed workflow tasks and how
    it ended (the bookkeeping events in between left out)."""
    columns = {}
    for name, history in histories.items():
        frame = history_frame(history)
        events = frame[~frame["event_type"].isin(_QUIET_EVENTS)]
        columns[name] = pd.Series([_label(row) for row in events.itertuples()], dtype=str)
    return pd.DataFrame(columns).fillna("")


def _label(event: Any) -> str:
    what = event.activity if isinstance(event.activity, str) else event.details
    label = f"{event.event_type}: {what}" if what else event.event_type
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"
