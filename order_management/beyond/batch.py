"""Periodic batch processing with a Temporal Schedule: a ledger report every so often.

A Schedule is the server's own cron: it starts a workflow at each interval, even when no
client is running (only a worker is needed to run it). `LedgerReportWorkflow` reads the
ledger in one activity and sends the shop owner the figures as a notification.

The notebook's cells create the schedule and trigger it (`client.create_schedule`,
`handle.trigger()`); `notebook/schedules.py` lists its runs and deletes it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from order_management.activities import ledger
    from order_management.beyond.notifications import Notification, send_notification
    from order_management.errors import WorkshopError
    from order_management.workflow import STEP_RETRY

REPORT_SCHEDULE_ID = "ledger-report"
REPORT_RECIPIENT = "shop-owner"
REPORT_TIMEOUT = timedelta(seconds=10)


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


class InvalidInterval(WorkshopError, ValueError):
    """A report interval that is no positive number of minutes."""


def report_interval(minutes: float) -> timedelta:
    """The schedule's interval for `minutes` (a number), or `InvalidInterval` saying to set
    it above 0 (a schedule every 0 minutes would be a loop, and the server refuses it)."""
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
        raise InvalidInterval(
            f"REPORT_EVERY_MINUTES = {minutes!r}: the report interval must be above 0 minutes"
        )
    return timedelta(minutes=minutes)
