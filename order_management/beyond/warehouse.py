"""The warehouse: picking an order's units off the shelves, a long activity that heartbeats.

`pick_items` picks one unit at a time, for as long as the pick list takes: many seconds,
where the order's other steps take one. A long activity has two problems a short one does
not, and heartbeats solve both:

- A worker that dies mid-way is noticed only when a timeout passes, and the start-to-close
  timeout must cover the whole pick list, so it is long. With a *heartbeat timeout* as
  well, the server gives up on an attempt as soon as it has heard no heartbeat for that
  long, and retries it within seconds, on whichever worker polls.
- A retry should not start over. Each heartbeat carries the progress (units picked so
  far); the next attempt reads the last one the server recorded
  (`activity.info().heartbeat_details`) and goes on from there.

Without a heartbeat timeout, the server never checks heartbeats: they still carry progress
(and cancellation), but a dead worker goes unnoticed until the start-to-close timeout.

The worker sends heartbeats at most every 80% of the heartbeat timeout (the SDK throttles
them), so the server's last progress may lag a unit or two behind the picker's: a retry
picks those again. Each pick is recorded once, keyed by the order's workflow run and the
unit (the `picks` table, in the ledger's SQLite file), so picking again changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from order_management.ledger import LedgerFile, OrderRun
    from order_management.workflow import STEP_RETRY

if TYPE_CHECKING:
    import pandas as pd

SECONDS_PER_UNIT = 0.5
"""How long the picker takes to fetch one unit from its shelf."""

PICKING_HEARTBEAT_TIMEOUT = timedelta(seconds=3)
"""How long the picker may go without a heartbeat before the server retries the picking.
It heartbeats after every unit, so several units fit in it."""

PICKING_SLACK = timedelta(seconds=30)
"""Start-to-close: the whole pick list's time, plus this much for a busy machine."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS picks (
    order_id  TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    unit      INTEGER NOT NULL,
    attempt   INTEGER NOT NULL,
    picked_at TEXT NOT NULL,
    PRIMARY KEY (order_id, run_id, unit)
);
"""
PICK_COLUMNS = ["order_id", "unit", "attempt", "picked_at"]


@dataclass
class PickList:
    """What to pick for one order: this many units, one after the other."""

    order_id: str
    units: int = 10


@dataclass
class PickingReport:
    """How the picking went: the attempt that finished it, and where that attempt began."""

    order_id: str
    units: int
    attempt: int
    resumed_from: int
    """Units already picked, by the server's last heartbeat, when this attempt began."""


def picking_timeout(units: int) -> timedelta:
    """The start-to-close timeout of picking `units` units: one attempt's longest run."""
    return units * timedelta(seconds=SECONDS_PER_UNIT) + PICKING_SLACK


class PickLog:
    """The warehouse's record of every unit picked, in the ledger's SQLite file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._file = LedgerFile(path, _SCHEMA)
        self.path = self._file.path

    def record(self, run: OrderRun, unit: int, attempt: int) -> None:
        """Record that `unit` was picked; a unit picked again (on a retry) keeps its first
        record."""
        with self._file.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO picks VALUES (?, ?, ?, ?, ?)",
                (
                    run.order_id,
                    run.run_id,
                    unit,
                    attempt,
                    datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                ),
            )

    def frame(self, order_id: str) -> pd.DataFrame:
        """The order's picks, one row per unit: which attempt picked it first, and when."""
        import pandas as pd

        with self._file.transaction() as db:
            return pd.read_sql_query(
                f"SELECT {', '.join(PICK_COLUMNS)} FROM picks WHERE order_id = ? ORDER BY unit",
                db,
                params=(order_id,),
                parse_dates=["picked_at"],
            )


@activity.defn
async def pick_items(pick_list: PickList) -> PickingReport:
    """Pick the units one by one, heartbeating the count picked so far; a retry goes on
    from the last count the server recorded."""
    info = activity.info()
    resumed_from = int(info.heartbeat_details[0]) if info.heartbeat_details else 0
    run = OrderRun(pick_list.order_id, info.workflow_run_id or "")
    log = PickLog()
    for unit in range(resumed_from + 1, pick_list.units + 1):
        await asyncio.sleep(SECONDS_PER_UNIT)  # to the shelf and back
        await asyncio.to_thread(log.record, run, unit, info.attempt)
        activity.heartbeat(unit)  # "alive, and `unit` units are picked"
    return PickingReport(pick_list.order_id, pick_list.units, info.attempt, resumed_from)


@workflow.defn
class PickingWorkflow:
    """Pick one order's units in the warehouse: one long activity, with a heartbeat timeout."""

    @workflow.run
    async def run(self, pick_list: PickList) -> PickingReport:
        return await workflow.execute_activity(
            pick_items,
            pick_list,
            start_to_close_timeout=picking_timeout(pick_list.units),
            # Without this, heartbeats would detect nothing: a killed picker would be
            # noticed only when the start-to-close timeout above runs out.
            heartbeat_timeout=PICKING_HEARTBEAT_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
