"""Notebook 08's views of the ledger report's Schedule: its recent runs as a table, and a
delete that a cell can run twice. (The cells create and trigger the schedule themselves.)"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleHandle,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError, RPCStatusCode

from order_management.beyond.batch import LedgerReport
from order_management.deadline import Deadline

if TYPE_CHECKING:
    import pandas as pd

RUNS_TIMEOUT_SECONDS = 30.0


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

    deadline = Deadline(timeout)
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
        if deadline.passed:
            raise TimeoutError(
                f"Only {finished} of {at_least} runs of schedule {handle.id} "
                f"finished within {timeout:g} s; is a worker running?"
            )
        await asyncio.sleep(0.2)


async def _run_row(client: Client, action: ScheduleActionResult) -> dict[str, Any]:
    started = action.action
    # The schedule's one action starts a workflow, so each result is a started workflow.
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    run = client.get_workflow_handle(
        started.workflow_id, run_id=started.first_execution_run_id, result_type=LedgerReport
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
