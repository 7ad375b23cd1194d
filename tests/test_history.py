"""Histories as tables, timelines, visibility lists and replays, on real recorded histories."""

from __future__ import annotations

import re

import matplotlib
import pandas as pd
import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from order_management.history import (
    activity_spans,
    history_frame,
    plot_timeline,
    replay_line,
    workflows_frame,
)
from order_management.ledger import Ledger
from order_management.orders import await_result, decide, place_order
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow
from tests.helpers.servers import running_worker
from tests.record_histories import HISTORIES

matplotlib.use("Agg")  # no display in CI
import matplotlib.pyplot as plt  # noqa: E402


def recorded(scenario: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(
        f"order-workflow-{scenario}", (HISTORIES / f"{scenario}.json").read_text()
    )


def rows(frame: pd.DataFrame, event_type: str) -> pd.DataFrame:
    return frame[frame["event_type"] == event_type]


def test_history_frame_has_one_readable_row_per_event() -> None:
    history = recorded("completed")
    frame = history_frame(history)
    assert list(frame.columns) == [
        "event_id",
        "time",
        "event_type",
        "activity",
        "attempt",
        "duration",
        "identity",
        "details",
    ]
    assert frame["event_id"].tolist() == [event.event_id for event in history.events]
    assert frame["event_type"].iloc[0] == "WorkflowExecutionStarted"
    assert frame["event_type"].iloc[-1] == "WorkflowExecutionCompleted"
    assert frame["time"].is_monotonic_increasing
    assert str(frame["time"].dt.tz) == "UTC"


def test_activity_name_follows_the_scheduled_event_to_started_and_completed() -> None:
    frame = history_frame(recorded("completed"))
    activity_events = frame[frame["event_type"].str.startswith("ActivityTask")]
    assert activity_events.groupby("activity")["event_type"].apply(list).to_dict() == {
        name: ["ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted"]
        for name in ("reserve_inventory", "process_payment", "initiate_delivery")
    }
    completed = rows(frame, "ActivityTaskCompleted").set_index("activity")
    assert completed.loc["process_payment", "details"].startswith('result "TXN-')
    # Duration of a completed activity: from its scheduling, so it is never negative.
    assert (completed["duration"] > pd.Timedelta(0)).all()


def test_retried_activity_shows_its_attempt_the_last_failure_and_the_wait() -> None:
    frame = history_frame(recorded("transient_retry"))
    started = rows(frame, "ActivityTaskStarted").set_index("activity")
    assert started.loc["process_payment", "attempt"] == 3
    assert started.loc["reserve_inventory", "attempt"] == 1
    assert started.loc["process_payment", "details"].startswith(
        "after 2 failed attempts; last failure: ServiceTimeout: payment service timed out"
    )
    completed = rows(frame, "ActivityTaskCompleted").set_index("activity")
    assert completed.loc["process_payment", "attempt"] == 3
    # Two retry intervals (0.2 s, then 0.4 s) at least separate scheduling and completion.
    assert completed.loc["process_payment", "duration"] >= pd.Timedelta(seconds=0.6)
    scheduled = rows(frame, "ActivityTaskScheduled")
    assert scheduled["details"].str.contains("retries every 0.2s x2 up to 2s").all()


def test_permanent_failure_names_the_error_type_and_message() -> None:
    frame = history_frame(recorded("compensated_at_delivery"))
    failed = rows(frame, "ActivityTaskFailed")
    assert failed["activity"].tolist() == ["initiate_delivery"]
    assert failed["details"].tolist() == [
        "DeliveryUnavailable: no carrier can take the parcel (fail_at='delivery')"
    ]
    assert frame["activity"].dropna().unique().tolist()[-2:] == [
        "refund_payment",
        "release_inventory",
    ]


def test_identity_names_who_started_signalled_and_ran_each_task() -> None:
    frame = history_frame(recorded("approved")).set_index("event_type")
    # Recorded by one program: the client and the worker share its identity, pid@host.
    identity = frame.loc["WorkflowExecutionStarted", "identity"]
    assert identity.split("@")[0].isdigit()
    for acted in (
        "WorkflowExecutionSignaled",
        "WorkflowTaskStarted",
        "ActivityTaskStarted",
        "ActivityTaskCompleted",
    ):
        assert (frame.loc[[acted], "identity"] == identity).all(), acted
    # Events the server wrote by itself name no one.
    assert frame.loc[["ActivityTaskScheduled", "WorkflowTaskScheduled"], "identity"].isna().all()


def test_signal_and_timer_details() -> None:
    rejected = history_frame(recorded("rejected"))
    assert rows(rejected, "WorkflowExecutionSignaled")["details"].tolist() == [
        "signal approve_order(false)"
    ]
    timed_out = history_frame(recorded("approval_timed_out"))
    assert rows(timed_out, "TimerStarted")["details"].tolist() == [
        "approval timeout: timer 1 fires after 1s"
    ]
    fired = rows(timed_out, "TimerFired")
    assert fired["duration"].iloc[0] >= pd.Timedelta(seconds=1)
    assert (
        '"status":"approval_timed_out"'
        in rows(timed_out, "WorkflowExecutionCompleted")["details"].iloc[0]
    )


# -- activity spans and the timeline -------------------------------------------------------


def test_activity_spans_one_row_per_activity_with_attempts_and_outcome() -> None:
    spans = activity_spans(recorded("transient_retry")).set_index("activity")
    assert spans.index.tolist() == ["reserve_inventory", "process_payment", "initiate_delivery"]
    assert spans["attempts"].tolist() == [1, 3, 1]
    assert spans["outcome"].tolist() == ["completed"] * 3
    # The retried step spent its time waiting between attempts, the others hardly any.
    assert spans.loc["process_payment", "retry_wait"] >= pd.Timedelta(seconds=0.6)
    assert spans.loc["reserve_inventory", "retry_wait"] < pd.Timedelta(seconds=0.5)
    assert (spans["closed"] >= spans["started"]).all()
    assert (spans["duration"] == spans["closed"] - spans["scheduled"]).all()


def test_spans_of_several_orders_show_the_failure_and_the_compensations() -> None:
    spans = activity_spans([recorded("completed"), recorded("compensated_at_delivery")])
    compensated = spans[spans["workflow_id"] == "order-workflow-compensated_at_delivery"]
    assert list(zip(compensated["activity"], compensated["outcome"])) == [
        ("reserve_inventory", "completed"),
        ("process_payment", "completed"),
        ("initiate_delivery", "failed"),
        ("refund_payment", "completed"),
        ("release_inventory", "completed"),
    ]
    assert spans["workflow_id"].nunique() == 2


def test_timeline_of_one_order_has_a_lane_per_activity() -> None:
    ax = plot_timeline(activity_spans(recorded("compensated_at_payment")))
    try:
        assert [label.get_text() for label in ax.get_yticklabels()] == [
            "reserve_inventory",
            "process_payment",
            "release_inventory",
        ]
        hatched = [bar for bar in ax.patches if bar.get_hatch()]
        assert len(hatched) == 1  # the failed payment
    finally:
        plt.close(ax.figure)


def test_timeline_of_several_orders_has_a_lane_per_order() -> None:
    histories = [recorded(name) for name in ("completed", "transient_retry", "approved")]
    ax = plot_timeline(activity_spans(histories))
    try:
        assert [label.get_text() for label in ax.get_yticklabels()] == [
            h.workflow_id for h in histories
        ]
        assert "3 orders" in ax.get_title()
    finally:
        plt.close(ax.figure)


def test_timeline_of_an_order_without_activities_says_so() -> None:
    ax = plot_timeline(activity_spans(recorded("rejected")))
    try:
        assert ax.get_title() == "No activities ran"
        assert not ax.get_yticklabels()
    finally:
        plt.close(ax.figure)


# -- replay ----------------------------------------------------------------------------------


async def replayed(history: WorkflowHistory) -> str:
    result = await Replayer(workflows=[OrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    return replay_line(result)


async def test_a_history_exported_as_json_replays_deterministically() -> None:
    history = WorkflowHistory.from_json("order-workflow-approved", recorded("approved").to_json())
    assert await replayed(history) == (
        "order-workflow-approved: replays on this code (deterministic): it makes the decisions "
        f"its {len(history.events)} events recorded, in the same order"
    )


async def test_replay_line_names_the_event_where_code_and_history_part_ways() -> None:
    edited = (
        (HISTORIES / "completed.json")
        .read_text()
        .replace('"reserve_inventory"', '"process_payment"', 1)
    )
    replayer = Replayer(workflows=[OrderWorkflow])
    history = WorkflowHistory.from_json("order-workflow-edited", edited)
    line = replay_line(await replayer.replay_workflow(history, raise_on_replay_failure=False))
    assert re.match(
        r"order-workflow-edited: does NOT replay on this code at event \d+ "
        r"\(ActivityTaskScheduled process_payment\): \[TMPRL1100\] Nondeterminism error",
        line,
    ), line
    assert "reserve_inventory" in line and "\n" not in line  # what the code does now, one line
    kept = recorded("approved")
    assert replay_line(await replayer.replay_workflow(kept, raise_on_replay_failure=False)) == (
        f"{kept.workflow_id}: replays on this code (deterministic): it makes the decisions its "
        f"{len(kept.events)} events recorded, in the same order"
    )


# -- on a live dev server ----------------------------------------------------------------------


async def test_workflows_frame_lists_orders_with_readable_statuses(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        done = await place_order(dev_client, make_order(200, order_id + "-A"), task_queue)
        failed = await place_order(
            dev_client, make_order(200, order_id + "-B", fail_at="payment"), task_queue
        )
        waiting = await place_order(dev_client, make_order(2000, order_id + "-C"), task_queue)
        await await_result(done)
        await await_result(failed)
        live = history_frame(await failed.fetch_history())
    try:
        frame = await workflows_frame(dev_client, f"TaskQueue = '{task_queue}'", at_least=3)
        closed = await workflows_frame(
            dev_client, f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Completed'", at_least=2
        )
    finally:
        await waiting.terminate("test over")
    assert list(frame.columns) == [
        "workflow_id",
        "run_id",
        "workflow_type",
        "status",
        "start_time",
        "close_time",
        "duration",
        "task_queue",
    ]
    assert sorted(frame["workflow_id"]) == [done.id, failed.id, waiting.id]
    statuses = frame.set_index("workflow_id")["status"]
    # A compensated order is a workflow that completed: the saga is its normal outcome.
    assert statuses.to_dict() == {
        done.id: "Completed",
        failed.id: "Completed",
        waiting.id: "Running",
    }
    assert pd.isna(frame.set_index("workflow_id").loc[waiting.id, "duration"])
    assert (frame["task_queue"] == task_queue).all()
    assert sorted(closed["workflow_id"]) == [done.id, failed.id]
    assert rows(live, "ActivityTaskFailed")["activity"].tolist() == ["process_payment"]


async def test_update_events_name_the_update_and_its_outcome(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(dev_client, make_order(1500, order_id), task_queue)
        assert await decide(handle, True) == "approved"
        await await_result(handle)
        frame = history_frame(await handle.fetch_history())
    assert rows(frame, "WorkflowExecutionUpdateAccepted")["details"].tolist() == [
        "update decide(true)"
    ]
    assert rows(frame, "WorkflowExecutionUpdateCompleted")["details"].tolist() == [
        'result "approved"'
    ]
    assert rows(frame, "ActivityTaskScheduled")["activity"].tolist() == [
        "reserve_inventory",
        "process_payment",
        "initiate_delivery",
    ]


async def test_workflows_frame_gives_up_with_a_reason(dev_client: Client, task_queue: str) -> None:
    with pytest.raises(TimeoutError, match="Only 0 of the 1 expected workflows"):
        await workflows_frame(dev_client, f"TaskQueue = '{task_queue}'", at_least=1, timeout=0.5)


async def test_a_malformed_query_is_refused_in_one_line(dev_client: Client) -> None:
    with pytest.raises(ValueError, match="^Invalid visibility query 'WorkflowType = ': "):
        await workflows_frame(dev_client, "WorkflowType = ")
