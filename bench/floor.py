"""The engine's floor: a workflow that runs no-op activities, nothing else.

An order does three activities; this workflow does the same number of activities that do
nothing, on the same server and worker settings. Whatever an order costs above this is the
workshop's own overhead (validation, the ledger, payload size), not Temporal's.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

FLOOR_TIMEOUT = timedelta(seconds=10)


@activity.defn
async def noop(step: int) -> int:
    return step


@workflow.defn
class FloorWorkflow:
    """Runs `activities` no-op activities one after another, as an order runs its steps."""

    @workflow.run
    async def run(self, activities: int) -> int:
        for step in range(activities):
            await workflow.execute_activity(noop, step, start_to_close_timeout=FLOOR_TIMEOUT)
        return activities
