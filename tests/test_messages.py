"""Updates, signals and queries on the real dev server (the test server has no updates)."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from order_management.ledger import Ledger
from order_management.orders import OrderError, await_result, decide, place_order, send_approval
from order_management.shared import OrderStatus, make_order
from order_management.workflow import OrderWorkflow
from tests.helpers.servers import running_worker


async def test_decision_by_update_returns_the_outcome_and_the_order_completes(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(dev_client, make_order(1500, order_id), task_queue)
        assert await decide(handle, True) == "approved"
        result = await await_result(handle, timeout=30)
    assert result.status == OrderStatus.COMPLETED
    assert [e["kind"] for e in ledger.entries(order_id)] == ["reserve", "charge", "ship"]


async def test_validator_refuses_a_second_decision(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        # A mock delay keeps the approved order running while the second decision arrives.
        order = make_order(1500, order_id, mock_delay_seconds=0.5)
        handle = await place_order(dev_client, order, task_queue)
        assert await decide(handle, True) == "approved"
        with pytest.raises(OrderError, match="no longer waiting for a decision"):
            await decide(handle, False)
        result = await await_result(handle, timeout=30)
        history = await handle.fetch_history()
    assert result.status == OrderStatus.COMPLETED
    # A refused update leaves no trace in the history; the accepted one does.
    accepted = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1


async def test_validator_refuses_a_decision_for_an_order_that_needs_none(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(
            dev_client, make_order(1000, order_id, mock_delay_seconds=0.5), task_queue
        )
        with pytest.raises(OrderError, match="does not need approval"):
            await decide(handle, True)
        assert (await await_result(handle, timeout=30)).status == OrderStatus.COMPLETED


async def test_messages_to_a_finished_order_get_a_clear_error(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(dev_client, make_order(20, order_id), task_queue)
        await await_result(handle, timeout=30)
        with pytest.raises(OrderError, match="already finished"):
            await send_approval(handle, True)
        with pytest.raises(OrderError, match="already finished"):
            await decide(handle, True)
        # Queries still work on a closed workflow: a worker replays it to answer.
        assert await handle.query(OrderWorkflow.get_status) == OrderStatus.COMPLETED


async def test_starting_an_order_that_is_still_running_is_refused(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(dev_client, make_order(5000, order_id), task_queue)
        with pytest.raises(OrderError, match="still running"):
            await place_order(dev_client, make_order(5000, order_id), task_queue)
        await send_approval(handle, False)
        await await_result(handle, timeout=30)


async def test_result_wait_gives_up_with_a_reason_when_no_worker_runs(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    handle = await place_order(dev_client, make_order(20, order_id), task_queue)
    with pytest.raises(OrderError, match="is a worker polling"):
        await await_result(handle, timeout=1)
    await handle.terminate("test over")
