"""Client calls the beyond-the-basics tests make: place a split order and wait for it, approve
its sub-orders, schedule the ledger report. The notebook makes the same calls in its cells;
the workflow modules hold only what a worker runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    WorkflowHandle,
)

from order_management.beyond.batch import REPORT_SCHEDULE_ID, LedgerReportWorkflow
from order_management.beyond.sub_orders import (
    SplitOrderResult,
    SplitOrderWorkflow,
    split_workflow_id,
)
from order_management.deadline import Deadline
from order_management.orders import OrderError, order_handle, send_approval
from order_management.shared import APPROVAL_THRESHOLD, Order, validate_order

SplitHandle = WorkflowHandle[SplitOrderWorkflow, SplitOrderResult]


async def place_split_order(client: Client, order: Order, task_queue: str) -> SplitHandle:
    """Validate the order and start its `SplitOrderWorkflow` (id `split-order-<order_id>`)."""
    validate_order(order)
    return await client.start_workflow(
        SplitOrderWorkflow.run, order, id=split_workflow_id(order.order_id), task_queue=task_queue
    )


async def split_result(handle: SplitHandle, timeout: float) -> SplitOrderResult:
    """The split order's result within `timeout` seconds, or an `OrderError` naming the
    sub-orders still open (one over $1000 waits for its approval)."""
    try:
        return await asyncio.wait_for(handle.result(), timeout)
    except asyncio.TimeoutError:
        open_ids = [
            sub.order_id
            for sub in await handle.query(SplitOrderWorkflow.get_sub_orders)
            if sub.status is None
        ]
        raise OrderError(
            f"{handle.id} has no result within {timeout:g} s; sub-orders still open: "
            f"{', '.join(open_ids) or 'none'}. A sub-order over $1000 waits for approval"
        ) from None


async def approve_sub_orders(
    client: Client, handle: SplitHandle, timeout: float = 10.0
) -> list[str]:
    """Approve every sub-order over $1000; returns their ids. Sub-orders start a moment after
    the parent, so this polls for them, for at most `timeout` seconds."""
    deadline = Deadline(timeout)
    while not (sub_orders := await handle.query(SplitOrderWorkflow.get_sub_orders)):
        await _pause(deadline, f"{handle.id} did not split")
    approved = []
    for sub in sub_orders:
        if sub.total_amount > APPROVAL_THRESHOLD:
            await _approve_when_started(client, sub.order_id, deadline)
            approved.append(sub.order_id)
    return approved


async def _approve_when_started(client: Client, order_id: str, deadline: Deadline) -> None:
    while True:
        try:
            await send_approval(order_handle(client, order_id), True)
            return
        except OrderError:  # the child workflow has not started yet
            await _pause(deadline, f"sub-order {order_id} did not start")


async def _pause(deadline: Deadline, problem: str) -> None:
    if deadline.passed:
        raise TimeoutError(f"{problem} within {deadline.seconds:g} s; is a worker running?")
    await asyncio.sleep(0.1)


async def schedule_ledger_report(
    client: Client, every: timedelta, task_queue: str, schedule_id: str = REPORT_SCHEDULE_ID
) -> ScheduleHandle:
    """Create the report schedule (replacing one of the same id left from an earlier run)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            LedgerReportWorkflow.run,
            # The server appends the scheduled time to this id, one workflow per run.
            id=f"{schedule_id}-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        # A report still running when the next is due: skip the next (the default).
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).delete()
        return await client.create_schedule(schedule_id, schedule)
