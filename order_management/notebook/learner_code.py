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

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd
from temporalio.client import WorkflowHistory
from temporalio.worker import WorkflowReplayResult

from order_management.history import history_frame
from order_management.history import replay_line as replay_result_line
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
    """One line for a `Replayer` run over `history`: `history.replay_line`, the one renderer."""
    return replay_result_line(result)


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
