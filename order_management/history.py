"""Histories: reading what Temporal recorded about a workflow, event by event.

A workflow's history is the source of truth Temporal replays to recover it. These helpers
turn it into something a person (or a test) can read: a pandas table of events with
readable names, one row per activity execution for a timeline chart, the list of workflows
the server knows (visibility), and a replay's outcome in one line.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterable
from datetime import timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkflowReplayResult

from order_management.deadline import Deadline
from order_management.sdk_internals import core_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HISTORY_COLUMNS = [
    "event_id",
    "time",
    "event_type",
    "activity",
    "attempt",
    "duration",
    "identity",
    "details",
]
SPAN_COLUMNS = [
    "workflow_id",
    "activity",
    "activity_id",
    "scheduled",
    "started",
    "closed",
    "attempts",
    "outcome",
    "retry_wait",
    "duration",
]
WORKFLOW_COLUMNS = [
    "workflow_id",
    "run_id",
    "workflow_type",
    "status",
    "start_time",
    "close_time",
    "duration",
    "task_queue",
]

DETAILS_WIDTH = 120
"""Longer details (an order's JSON, a stack of messages) are cut here to keep tables readable."""


def scheduled_activities(history: WorkflowHistory) -> list[str]:
    """The activity names the workflow scheduled, in order."""
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


# -- one row per event ----------------------------------------------------------------------


def readable(enum_name: str, prefix: str = "") -> str:
    """EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> ActivityTaskScheduled (as the Web UI writes it)."""
    return "".join(word.capitalize() for word in enum_name.removeprefix(prefix).split("_"))


def event_type_name(event: HistoryEvent) -> str:
    return readable(EventType.Name(event.event_type), "EVENT_TYPE_")


def _attributes(event: HistoryEvent) -> Any:
    """The event's own attributes (each event type has its own message)."""
    which = event.WhichOneof("attributes")
    return getattr(event, which) if which else None


# Events that close something another event opened, and the field naming that event:
# their duration is the time between the two.
_OPENED_BY = {
    "ActivityTaskCompleted": "scheduled_event_id",
    "ActivityTaskFailed": "scheduled_event_id",
    "ActivityTaskTimedOut": "scheduled_event_id",
    "ActivityTaskCanceled": "scheduled_event_id",
    "WorkflowTaskCompleted": "scheduled_event_id",
    "WorkflowTaskFailed": "scheduled_event_id",
    "WorkflowTaskTimedOut": "scheduled_event_id",
    "TimerFired": "started_event_id",
    "TimerCanceled": "started_event_id",
    "WorkflowExecutionUpdateCompleted": "accepted_event_id",
    "ChildWorkflowExecutionCompleted": "initiated_event_id",
    "ChildWorkflowExecutionFailed": "initiated_event_id",
}
_WORKFLOW_CLOSED = {
    "WorkflowExecutionCompleted",
    "WorkflowExecutionFailed",
    "WorkflowExecutionTimedOut",
    "WorkflowExecutionTerminated",
    "WorkflowExecutionCanceled",
    "WorkflowExecutionContinuedAsNew",
}


def history_frame(history: WorkflowHistory) -> pd.DataFrame:
    """The history as a table, one row per event.

    Columns: event_id, time (UTC), event_type (e.g. "ActivityTaskScheduled"), activity (its
    name, also on the Started/Completed/Failed events of that activity), attempt (of an
    activity or workflow task), duration (for an event that closes another: since that one,
    e.g. from ActivityTaskScheduled to ActivityTaskCompleted, retries included), identity
    (who did it, as the server recorded: the worker that started or completed a task, the
    client that started or signalled the workflow; "pid@host" by default) and details
    (signal and update names with their arguments, timer durations, results, failures).
    """
    by_id: dict[int, HistoryEvent] = {}
    rows = []
    for event in history.events:
        by_id[event.event_id] = event
        kind = event_type_name(event)
        rows.append(
            {
                "event_id": event.event_id,
                "time": event.event_time.ToDatetime(tzinfo=timezone.utc),
                "event_type": kind,
                "activity": _activity_name(event, by_id),
                "attempt": _attempt(event, by_id),
                "duration": _duration(event, kind, by_id, history.events[0]),
                "identity": getattr(_attributes(event), "identity", "") or None,
                "details": _details(event, kind),
            }
        )
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame["attempt"] = frame["attempt"].astype("Int64")
    frame["duration"] = pd.to_timedelta(frame["duration"])
    return frame


def _activity_name(event: HistoryEvent, by_id: dict[int, HistoryEvent]) -> str | None:
    if event.HasField("activity_task_scheduled_event_attributes"):
        return event.activity_task_scheduled_event_attributes.activity_type.name
    scheduled = by_id.get(getattr(_attributes(event), "scheduled_event_id", 0))
    if scheduled is not None and scheduled.HasField("activity_task_scheduled_event_attributes"):
        return scheduled.activity_task_scheduled_event_attributes.activity_type.name
    return None


def _attempt(event: HistoryEvent, by_id: dict[int, HistoryEvent]) -> int | None:
    attributes = _attributes(event)
    if getattr(attributes, "attempt", 0):
        return attributes.attempt
    # An activity's closing event carries no attempt: it is that of its Started event.
    if _activity_name(event, by_id) is not None:
        started = by_id.get(getattr(attributes, "started_event_id", 0))
        return getattr(_attributes(started), "attempt", None) if started else None
    return None


def _duration(
    event: HistoryEvent, kind: str, by_id: dict[int, HistoryEvent], first: HistoryEvent
) -> timedelta | None:
    opened: HistoryEvent | None
    if kind in _WORKFLOW_CLOSED:
        opened = first
    else:
        opened = by_id.get(getattr(_attributes(event), _OPENED_BY.get(kind, ""), 0))
    if opened is None:
        return None
    return event.event_time.ToDatetime() - opened.event_time.ToDatetime()


# -- details ------------------------------------------------------------------------------


def _value(payload: Payload) -> Any:
    return DataConverter.default.payload_converter.from_payload(payload)


def _brief(value: Any) -> str:
    """A value as compact JSON; empty fields of a dict (nulls, empty lists) left out."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if v not in (None, [], {}, "")}
    return json.dumps(value, separators=(",", ":"), default=str)


def _arguments(payloads: Payloads) -> str:
    return ", ".join(_brief(_value(p)) for p in payloads.payloads)


def _result(payloads: Payloads) -> str:
    values = [_value(p) for p in payloads.payloads]
    return "" if values in ([], [None]) else "result " + ", ".join(map(_brief, values))


def failure_text(failure: Failure) -> str:
    """`PaymentDeclined: the card was declined`: the error type (if any) and its message."""
    error_type = failure.application_failure_info.type
    text = f"{error_type}: {failure.message}" if error_type else failure.message
    if failure.HasField("cause"):
        text += f" (cause: {failure_text(failure.cause)})"
    return text


def _seconds(duration: Any) -> str:
    return f"{duration.ToTimedelta().total_seconds():g}s"


def _scheduled(a: Any) -> str:
    retry = a.retry_policy
    return (
        f"timeout {_seconds(a.start_to_close_timeout)}; retries every "
        f"{_seconds(retry.initial_interval)} x{retry.backoff_coefficient:g} "
        f"up to {_seconds(retry.maximum_interval)}"
    )


def _started(a: Any) -> str:
    if a.attempt <= 1:
        return ""
    failed = a.attempt - 1
    return (
        f"after {failed} failed attempt{'s' if failed > 1 else ''}; last failure: "
        f"{failure_text(a.last_failure)}"
    )


def _update_outcome(a: Any) -> str:
    if a.outcome.HasField("failure"):
        return f"failed: {failure_text(a.outcome.failure)}"
    return _result(a.outcome.success)


DETAILS: dict[str, Callable[[Any], str]] = {
    "WorkflowExecutionStarted": lambda a: (
        f"{a.workflow_type.name} on task queue {a.task_queue.name}, input {_arguments(a.input)}"
    ),
    "WorkflowExecutionCompleted": lambda a: _result(a.result),
    "WorkflowExecutionFailed": lambda a: failure_text(a.failure),
    "WorkflowExecutionTerminated": lambda a: f"terminated: {a.reason}",
    "WorkflowExecutionSignaled": lambda a: f"signal {a.signal_name}({_arguments(a.input)})",
    "WorkflowExecutionUpdateAccepted": lambda a: (
        f"update {a.accepted_request.input.name}({_arguments(a.accepted_request.input.args)})"
    ),
    "WorkflowExecutionUpdateCompleted": _update_outcome,
    "WorkflowTaskFailed": lambda a: (
        readable(WorkflowTaskFailedCause.Name(a.cause), "WORKFLOW_TASK_FAILED_CAUSE_")
        + f": {a.failure.message}"
    ),
    "ActivityTaskScheduled": _scheduled,
    "ActivityTaskStarted": _started,
    "ActivityTaskCompleted": lambda a: _result(a.result),
    "ActivityTaskFailed": lambda a: failure_text(a.failure),
    "ActivityTaskTimedOut": lambda a: failure_text(a.failure),
    "TimerStarted": lambda a: f"timer {a.timer_id} fires after {_seconds(a.start_to_fire_timeout)}",
    "TimerFired": lambda a: f"timer {a.timer_id} fired",
    "TimerCanceled": lambda a: f"timer {a.timer_id} canceled",
    # e.g. workflow.patched(): core_patch: patch-data {"id":"fraud-check","deprecated":false}
    "MarkerRecorded": lambda a: (
        f"{a.marker_name}: "
        + ", ".join(f"{key} {_arguments(value)}" for key, value in a.details.items())
    ),
    "UpsertWorkflowSearchAttributes": lambda a: ", ".join(
        f"{key}={_brief(_value(value))}"
        for key, value in a.search_attributes.indexed_fields.items()
    ),
}
"""How to describe each event type in one line (event types not listed have no details)."""


def _details(event: HistoryEvent, kind: str) -> str:
    text = DETAILS.get(kind, lambda a: "")(_attributes(event))
    # The workflow's own label for a timer or activity, e.g. "approval timeout".
    if event.user_metadata.HasField("summary"):
        text = f"{_value(event.user_metadata.summary)}: {text}"
    return text if len(text) <= DETAILS_WIDTH else text[: DETAILS_WIDTH - 1] + "…"


# -- one row per activity execution: the timeline -------------------------------------------


def activity_spans(histories: WorkflowHistory | Iterable[WorkflowHistory]) -> pd.DataFrame:
    """One row per activity the workflow(s) scheduled, for a timeline.

    scheduled/started/closed are UTC times; started is that of the last attempt (Temporal
    records only the attempt that finished), so `retry_wait` (started - scheduled) is the
    time spent in failed attempts and the backoff between them. `duration` runs from
    scheduled to closed; outcome is completed, failed, timed out, canceled or running.
    """
    if isinstance(histories, WorkflowHistory):
        histories = [histories]
    rows = [row for history in histories for row in _spans_of(history)]
    frame = pd.DataFrame(rows, columns=SPAN_COLUMNS)
    for column in ("scheduled", "started", "closed"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["attempts"] = frame["attempts"].astype("Int64")
    frame["retry_wait"] = frame["started"] - frame["scheduled"]
    frame["duration"] = frame["closed"] - frame["scheduled"]
    return frame


_OUTCOMES = {
    "ActivityTaskCompleted": "completed",
    "ActivityTaskFailed": "failed",
    "ActivityTaskTimedOut": "timed out",
    "ActivityTaskCanceled": "canceled",
}


def _spans_of(history: WorkflowHistory) -> list[dict[str, Any]]:
    spans: dict[int, dict[str, Any]] = {}
    for event in history.events:
        kind = event_type_name(event)
        moment = event.event_time.ToDatetime(tzinfo=timezone.utc)
        attributes = _attributes(event)
        if kind == "ActivityTaskScheduled":
            spans[event.event_id] = {
                "workflow_id": history.workflow_id,
                "activity": attributes.activity_type.name,
                "activity_id": attributes.activity_id,
                "scheduled": moment,
                "started": None,
                "closed": None,
                "attempts": None,
                "outcome": "running",
            }
        elif kind == "ActivityTaskStarted":
            spans[attributes.scheduled_event_id].update(started=moment, attempts=attributes.attempt)
        elif kind in _OUTCOMES:
            spans[attributes.scheduled_event_id].update(closed=moment, outcome=_OUTCOMES[kind])
    return list(spans.values())


def plot_timeline(spans: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """A Gantt chart of `activity_spans`: one row per activity for one order, one row per
    order for several. Bars are coloured by activity; a pale lead-in is the time spent
    retrying (failed attempts and backoff); a hatched bar is an activity that failed."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    by_order = spans["workflow_id"].nunique() > 1
    lanes = list(dict.fromkeys(spans["workflow_id" if by_order else "activity"]))
    names = list(dict.fromkeys(spans["activity"]))
    # tab10 is a ListedColormap, which has colours; matplotlib's stubs say any Colormap.
    colours = dict(zip(names, plt.get_cmap("tab10").colors))  # type: ignore[attr-defined]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.2 + 0.45 * len(lanes)))
    origin = spans["scheduled"].min()
    for span in spans.itertuples():
        lane = lanes.index(span.workflow_id if by_order else span.activity)
        scheduled = (span.scheduled - origin).total_seconds()
        started = scheduled if pd.isna(span.started) else (span.started - origin).total_seconds()
        closed = started if pd.isna(span.closed) else (span.closed - origin).total_seconds()
        colour = colours[span.activity]
        ax.barh(lane, started - scheduled, left=scheduled, color=colour, alpha=0.3)
        failed = span.outcome not in ("completed", "running")
        ax.barh(
            lane,
            closed - started,
            left=started,
            color=colour,
            edgecolor="black" if failed else colour,
            linewidth=0.5,
            hatch="//" if failed else None,
        )
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()  # the first lane on top, as in a history read top to bottom
    ax.set_xlabel("seconds since the first activity was scheduled")
    legend = [Patch(color=colours[name], label=name) for name in names]
    legend += [
        Patch(facecolor="lightgrey", alpha=0.5, label="retrying (failed attempts, backoff)"),
        Patch(facecolor="white", edgecolor="black", hatch="//", label="failed"),
    ]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.set_title(title or _timeline_title(spans, by_order))
    return ax


def _timeline_title(spans: pd.DataFrame, by_order: bool) -> str:
    if spans.empty:
        # A rejected or timed-out order never ran an activity: say so instead of a blank chart.
        return "No activities ran"
    if by_order:
        return f"Activities of {spans['workflow_id'].nunique()} orders"
    return f"Activities of {spans['workflow_id'].iloc[0]}"


# -- visibility: the workflows the server knows --------------------------------------------


async def workflows_frame(
    client: Client, query: str = "", *, at_least: int = 0, timeout: float = 10.0
) -> pd.DataFrame:
    """The workflows matching a visibility query (e.g. "WorkflowType = 'OrderWorkflow'"),
    newest first: workflow_id, run_id, workflow_type, status (Running, Completed, Failed...),
    start_time, close_time, duration and task_queue.

    Visibility is eventually consistent: a workflow started or closed a moment ago may not
    be listed (or show its new status) yet. With `at_least`, poll until that many match, for
    at most `timeout` seconds, then raise `TimeoutError` saying how many were seen.
    """
    deadline = Deadline(timeout)
    while True:
        try:
            rows = [_workflow_row(w) async for w in client.list_workflows(query)]
        except RPCError as err:
            if err.status != RPCStatusCode.INVALID_ARGUMENT:
                raise
            raise ValueError(f"Invalid visibility query {query!r}: {err.message}") from None
        if len(rows) >= at_least:
            break
        if deadline.passed:
            raise TimeoutError(
                f"Only {len(rows)} of the {at_least} expected workflows match "
                f"{query!r} after {timeout:g} s; the server's visibility store "
                "lags behind, or fewer workflows exist. Run the cell again."
            )
        await asyncio.sleep(0.2)
    frame = pd.DataFrame(rows, columns=WORKFLOW_COLUMNS)
    for column in ("start_time", "close_time"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["duration"] = frame["close_time"] - frame["start_time"]
    return frame


def _workflow_row(workflow: Any) -> dict[str, Any]:
    return {
        "workflow_id": workflow.id,
        "run_id": workflow.run_id,
        "workflow_type": workflow.workflow_type,
        "status": readable(workflow.status.name) if workflow.status else None,
        "start_time": workflow.start_time,
        "close_time": workflow.close_time,
        "task_queue": workflow.task_queue,
    }


# -- saving and replaying a history --------------------------------------------------------


def save_history(history: WorkflowHistory, folder: Path | str) -> Path:
    """Write the history as JSON (`WorkflowHistory.to_json`, which `from_json` reads back, as
    it reads the Web UI's download and `temporal workflow show --output json`) to
    `<folder>/<workflow id>.json`."""
    path = Path(folder) / f"{history.workflow_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json())
    return path


def load_history(path: Path | str, workflow_id: str | None = None) -> WorkflowHistory:
    """A history saved as JSON; its workflow id is the file name unless given."""
    path = Path(path)
    return WorkflowHistory.from_json(workflow_id or path.stem, path.read_text())


def replay_line(result: WorkflowReplayResult) -> str:
    """One line for a `Replayer` run (made with `raise_on_replay_failure=False`): it replays,
    or where the code and the history part ways, and the reason. The one way the workshop
    renders a replay result."""
    history = result.history
    who = history.workflow_id
    if result.replay_failure is None:
        return (
            f"{who}: replays on this code (deterministic): it makes the decisions its "
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
        what = activity[1]
        rows = frame[(frame["event_type"] == "ActivityTaskScheduled") & (frame["activity"] == what)]
    elif patch:
        what = f"patch {patch[1]}"
        rows = frame[
            (frame["event_type"] == "MarkerRecorded")
            & frame["details"].str.contains(f'"{patch[1]}"', regex=False)
        ]
    else:
        return None
    if rows.empty:
        return None
    row = rows.iloc[0]
    return f"{row['event_id']} ({row['event_type']} {what})"


def replay_failure_reason(failure: Exception) -> str:
    """A replay failure in one line: e.g. `[TMPRL1100] Nondeterminism error: Activity type of
    scheduled event 'reserve_inventory' does not match ...`, the reason a
    `NondeterminismError` carries inside the SDK core's debug dump."""
    text = str(failure)
    return core_message(text) or text.splitlines()[0]
