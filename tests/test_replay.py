"""Replay: every recorded history must replay against today's workflow code.

A change that makes the workflow issue different commands for the same history (a
non-deterministic change) fails here, before it breaks orders already in flight.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

with workflow.unsafe.imports_passed_through():
    from order_management.activities import process_payment, reserve_inventory
    from order_management.shared import Order
    from order_management.workflow import OrderWorkflow
    from tests.record_histories import HISTORIES, SCENARIOS


def test_every_scenario_has_a_recorded_history() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_recorded_history_replays_deterministically(scenario: str) -> None:
    history = WorkflowHistory.from_json(
        f"order-workflow-{scenario}", (HISTORIES / f"{scenario}.json").read_text()
    )
    result = await Replayer(workflows=[OrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, f"{scenario}: {result.replay_failure}"


@workflow.defn(name="OrderWorkflow")
class ChargeFirstOrderWorkflow:
    """A non-deterministic edit of OrderWorkflow: it charges before reserving."""

    @workflow.run
    async def run(self, order: Order) -> None:
        for step in (process_payment, reserve_inventory):
            await workflow.execute_activity(
                step, order, start_to_close_timeout=timedelta(seconds=5)
            )


async def test_a_reordered_workflow_fails_replay() -> None:
    """The guard works: the recorded history does not match a workflow that charges first."""
    history = WorkflowHistory.from_json(
        "order-workflow-completed", (HISTORIES / "completed.json").read_text()
    )
    result = await Replayer(workflows=[ChargeFirstOrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
