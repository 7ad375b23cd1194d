"""Heartbeats, on the real dev server with real worker processes: a long activity whose worker
is killed is retried once its heartbeat timeout passes (not its start-to-close timeout), and
the retry goes on from the progress of the last heartbeat the server recorded.
"""

from __future__ import annotations

import asyncio
from datetime import timezone

from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.client import Client, WorkflowHistory

from order_management.beyond.warehouse import (
    PickingWorkflow,
    PickList,
    PickLog,
    picking_timeout,
)
from order_management.ledger import Ledger
from order_management.notebook.outages import kill_during, pending_activities
from order_management.notebook.worker_process import WorkerProcess

UNITS = 10


def started_events(history: WorkflowHistory) -> list:
    return [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]


async def test_a_killed_pickers_retry_comes_on_the_heartbeat_timeout_and_resumes_its_progress(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    pick_list = PickList(order_id, units=UNITS)
    first = WorkerProcess.start(task_queue)
    second: WorkerProcess | None = None
    try:
        handle = await dev_client.start_workflow(
            PickingWorkflow.run, pick_list, id=f"picking-{order_id}", task_queue=task_queue
        )
        running = await kill_during(first, handle, "pick_items", progress=3)
        (orphaned,) = await pending_activities(handle)  # what the server kept of attempt 1
        second = WorkerProcess.start(task_queue)
        report = await asyncio.wait_for(
            handle.result(), picking_timeout(UNITS).total_seconds() + 30
        )
        history = await handle.fetch_history()
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()

    (started,) = started_events(history)  # only the attempt that finished is recorded
    retry = started.activity_task_started_event_attributes
    assert (retry.attempt, retry.identity) == (2, second.identity)
    # The server gave up on attempt 1 because its heartbeats stopped...
    assert retry.last_failure.timeout_failure_info.timeout_type == (
        TimeoutType.TIMEOUT_TYPE_HEARTBEAT
    )
    # ...before attempt 1's start-to-close timeout would have let attempt 2 start.
    assert started.event_time.ToDatetime(
        tzinfo=timezone.utc
    ) - running.last_started < picking_timeout(UNITS)

    # Attempt 2 went on from the last progress the server recorded, not from zero.
    assert (orphaned.attempt, orphaned.worker) == (1, first.identity)
    assert orphaned.progress >= 3
    assert (report.attempt, report.resumed_from) == (2, orphaned.progress)
    picks = PickLog().frame(order_id)
    assert picks["unit"].tolist() == list(range(1, UNITS + 1))  # each unit recorded once
    by_attempt = picks.groupby("attempt")["unit"]
    assert by_attempt.min()[1] == 1 and by_attempt.max()[1] >= report.resumed_from
    assert by_attempt.min()[2] > report.resumed_from and by_attempt.max()[2] == UNITS
