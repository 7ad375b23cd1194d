"""Periodic batch processing with a Temporal Schedule: a ledger report every so often.

A Schedule is the server's own cron: it starts a workflow at each interval, even when no
client is running (only a worker is needed to run it). `LedgerReportWorkflow` reads the
ledger in one activity and sends the shop owner the figures as a notification.

The client side manages the schedule: create (or replace) it, trigger a run at once, list
its recent runs as a table, delete it. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.client import (
        Client,
        Schedule,
        ScheduleActionResult,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleHandle,
        ScheduleIntervalSpec,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
        WorkflowExecutionStatus,
    )
    from temporalio.service import RPCError, RPCStatusCode

    from order_management.activities import ledger
    from order_management.beyond.notifications import Notification, send_notification
    from order_management.local.config import task_queue as configured_task_queue
    from order_management.orders import OrderError
    from order_management.workflow import STEP_RETRY

if TYPE_CHECKING:
    import pandas as pd

REPORT_SCHEDULE_ID = "ledger-report"
REPORT_RECIPIENT = "shop-owner"
REPORT_TIMEOUT = timedelta(seconds=10)
RUNS_TIMEOUT_SECONDS = 30.0


@dataclass
class LedgerReport:
    """The shop's figures at the time of the report."""

    orders: int
    charged: float
    refunded: float
    shipments: int

    @property
    def summary(self) -> str:
        return (
            f"{self.orders} orders, {self.charged:.2f} charged, {self.refunded:.2f} refunded, "
            f"{self.shipments} shipped"
        )


@activity.defn
async def summarize_ledger() -> LedgerReport:
    """Read the whole ledger and add it up."""
    entries = await asyncio.to_thread(ledger().entries)
    amounts = {"charge": 0.0, "refund": 0.0}
    for entry in entries:
        if entry["kind"] in amounts:
            amounts[entry["kind"]] += entry["amount"]
    return LedgerReport(
        orders=len({(e["order_id"], e["run_id"]) for e in entries}),
        charged=round(amounts["charge"], 2),
        refunded=round(abs(amounts["refund"]), 2),
        shipments=sum(e["kind"] == "ship" for e in entries),
    )


@workflow.defn
class LedgerReportWorkflow:
    """One scheduled run: add up the ledger, send the figures to the shop owner."""

    @workflow.run
    async def run(self) -> LedgerReport:
        report = await workflow.execute_activity(
            summarize_ledger, start_to_close_timeout=REPORT_TIMEOUT, retry_policy=STEP_RETRY
        )
        await workflow.execute_activity(
            send_notification,
            Notification(REPORT_RECIPIENT, "Ledger report", report.summary),
            start_to_close_timeout=REPORT_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        return report


def report_interval(minutes: float) -> timedelta:
    """The schedule's interval for `minutes` (a number), or `OrderError` saying to set it
    above 0 (a schedule every 0 minutes would be a loop, and the server refuses it)."""
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
        raise OrderError(
            f"REPORT_EVERY_MINUTES = {minutes!r}: the report interval must be above 0 minutes"
        )
    return timedelta(minutes=minutes)


async def schedule_ledger_report(
    client: Client,
    every: timedelta,
    schedule_id: str = REPORT_SCHEDULE_ID,
    task_queue: str | None = None,
) -> ScheduleHandle:
    """Create the report schedule (replacing one of the same id left from an earlier run)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            LedgerReportWorkflow.run,
            # The server appends the scheduled time to this id, one workflow per run.
            id=f"{schedule_id}-run",
            task_queue=task_queue or configured_task_queue(),
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


async def delete_schedule(handle: ScheduleHandle) -> bool:
    """Delete the schedule; False (and nothing done) when it is already gone, so a cell that
    deletes it can run twice."""
    try:
        await handle.delete()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def schedule_runs_frame(
    client: Client,
    handle: ScheduleHandle,
    *,
    at_least: int = 0,
    timeout: float = RUNS_TIMEOUT_SECONDS,
) -> pd.DataFrame:
    """The schedule's recent runs (scheduled and started times, workflow id, status).
    With `at_least`, wait until that many runs have finished, for at most `timeout` s."""
    import pandas as pd

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = [
            await _run_row(client, action)
            for action in (await handle.describe()).info.recent_actions
        ]
        finished = sum(row["status"] not in ("Running", None) for row in rows)
        if finished >= at_least:
            return pd.DataFrame(
                rows, columns=["scheduled_at", "started_at", "workflow_id", "status", "report"]
            )
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(
                f"Only {finished} of {at_least} runs of schedule {handle.id} "
                f"finished within {timeout:g} s; is a worker running?"
            )
        await asyncio.sleep(0.2)


async def _run_row(client: Client, action: ScheduleActionResult) -> dict[str, Any]:
    run = client.get_workflow_handle_for(
        LedgerReportWorkflow.run,
        action.action.workflow_id,
        run_id=action.action.first_execution_run_id,
    )
    status = (await run.describe()).status
    report = None
    if status == WorkflowExecutionStatus.COMPLETED:
        report = (await run.result()).summary
    return {
        "scheduled_at": action.scheduled_at,
        "started_at": action.started_at,
        "workflow_id": run.id,
        "status": status.name.title() if status else None,
        "report": report,
    }
