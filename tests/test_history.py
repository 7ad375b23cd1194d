"""Histories as tables, timelines, visibility lists and replays, on real recorded histories."""

from __future__ import annotations

import pandas as pd
from temporalio.client import WorkflowHistory

from order_management.history import history_frame

from .record_histories import HISTORIES


def recorded(scenario: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"order-workflow-{scenario}",
                                     (HISTORIES / f"{scenario}.json").read_text())


def rows(frame: pd.DataFrame, event_type: str) -> pd.DataFrame:
    return frame[frame["event_type"] == event_type]


def test_history_frame_has_one_readable_row_per_event() -> None:
    history = recorded("completed")
    frame = history_frame(history)
    assert list(frame.columns) == ["event_id", "time", "event_type", "activity", "attempt",
                                   "duration", "details"]
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
        "after 2 failed attempts; last failure: ServiceTimeout: payment service timed out")
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
        "DeliveryUnavailable: no carrier can take the parcel (fail_at='delivery')"]
    assert frame["activity"].dropna().unique().tolist()[-2:] == ["refund_payment",
                                                                 "release_inventory"]


def test_signal_and_timer_details() -> None:
    rejected = history_frame(recorded("rejected"))
    assert rows(rejected, "WorkflowExecutionSignaled")["details"].tolist() == [
        "signal approve_order(false)"]
    timed_out = history_frame(recorded("approval_timed_out"))
    assert rows(timed_out, "TimerStarted")["details"].tolist() == [
        "approval timeout: timer 1 fires after 1s"]
    fired = rows(timed_out, "TimerFired")
    assert fired["duration"].iloc[0] >= pd.Timedelta(seconds=1)
    assert '"status":"approval_timed_out"' in rows(timed_out, "WorkflowExecutionCompleted")[
        "details"].iloc[0]
