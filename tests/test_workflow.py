"""OrderWorkflow's behaviour on the time-skipping test server: approval, saga, retries."""

from __future__ import annotations

import re

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from order_management.history import scheduled_activities
from order_management.ledger import Ledger
from order_management.orders import await_result, place_order, send_approval
from order_management.shared import OrderStatus, make_order, workflow_id_for
from order_management.workflow import OrderWorkflow
from tests.helpers.servers import running_worker

FULFILMENT = ["reserve_inventory", "process_payment", "initiate_delivery"]


def kinds(ledger: Ledger, order_id: str) -> list[str]:
    return [entry["kind"] for entry in ledger.entries(order_id)]


async def test_order_under_threshold_completes_with_seed_style_references(
    time_skipping: WorkflowEnvironment, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        handle = await place_order(time_skipping.client, make_order(500, order_id), task_queue)
        result = await await_result(handle)
        history = await handle.fetch_history()
    assert result.status == OrderStatus.COMPLETED
    assert result.message == "Order processed successfully"
    assert re.fullmatch(r"TXN-[A-Z0-9]{8}", result.transaction_id or "")
    assert re.fullmatch(r"RES-[A-Z0-9]{8}", result.reservation_id or "")
    assert re.fullmatch(r"TRACK-[A-Z0-9]{12}", result.tracking_number or "")
    assert scheduled_activities(history) == FULFILMENT
    assert kinds(ledger, order_id) == ["reserve", "charge", "ship"]


@pytest.mark.parametrize(("amount", "needs_approval"), [(1000.00, False), (1000.01, True)])
async def test_approval_threshold_is_strictly_above_1000(
    time_skipping: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
    order_id: str,
    amount: float,
    needs_approval: bool,
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        handle = await place_order(time_skipping.client, make_order(amount, order_id), task_queue)
        assert await handle.query(OrderWorkflow.requires_approval) is needs_approval
        if needs_approval:
            assert await handle.query(OrderWorkflow.get_status) == OrderStatus.AWAITING_APPROVAL
            await send_approval(handle, True)
        result = await await_result(handle)
    assert result.status == OrderStatus.COMPLETED


async def test_approved_order_completes_and_charges_once(
    time_skipping: WorkflowEnvironment, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        handle = await place_order(time_skipping.client, make_order(1500, order_id), task_queue)
        await send_approval(handle, True)
        result = await await_result(handle)
        progress = await handle.query(OrderWorkflow.get_progress)
    assert result.status == OrderStatus.COMPLETED
    assert progress.approval_decision == "approved"
    assert [step.activity for step in progress.steps_done] == FULFILMENT
    assert kinds(ledger, order_id) == ["reserve", "charge", "ship"]


async def test_rejected_order_reserves_and_charges_nothing(
    time_skipping: WorkflowEnvironment, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        handle = await place_order(time_skipping.client, make_order(2500, order_id), task_queue)
        await send_approval(handle, False)
        result = await await_result(handle)
        history = await handle.fetch_history()
    assert result.status == OrderStatus.REJECTED
    assert scheduled_activities(history) == []
    assert kinds(ledger, order_id) == []


async def test_later_signal_never_changes_the_decision(
    time_skipping: WorkflowEnvironment, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        handle = await place_order(time_skipping.client, make_order(2500, order_id), task_queue)
        await send_approval(handle, False)
        await send_approval(handle, True)
        result = await await_result(handle)
    assert result.status == OrderStatus.REJECTED
    assert kinds(ledger, order_id) == []


async def test_approval_times_out_after_five_minutes_of_workflow_time(
    time_skipping: WorkflowEnvironment, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        handle = await place_order(time_skipping.client, make_order(5000, order_id), task_queue)
        result = await await_result(handle)
        history = await handle.fetch_history()
    assert result.status == OrderStatus.APPROVAL_TIMED_OUT
    timers = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert timers == [300]
    # The test server skipped the wait: five minutes passed in the workflow's own clock.
    first, last = history.events[0].event_time, history.events[-1].event_time
    assert last.ToSeconds() - first.ToSeconds() >= 300
    assert kinds(ledger, order_id) == []


@pytest.mark.parametrize(
    ("fail_at", "done_before", "compensations"),
    [
        ("inventory", [], []),
        ("payment", ["reserve_inventory"], ["release_inventory"]),
        (
            "delivery",
            ["reserve_inventory", "process_payment"],
            ["refund_payment", "release_inventory"],
        ),
    ],
)
async def test_permanent_failure_undoes_the_steps_that_succeeded_in_reverse(
    time_skipping: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
    order_id: str,
    fail_at: str,
    done_before: list[str],
    compensations: list[str],
) -> None:
    stock_before = ledger.stock()
    async with running_worker(time_skipping.client, task_queue):
        order = make_order(300, order_id, fail_at=fail_at)
        handle = await place_order(time_skipping.client, order, task_queue)
        result = await await_result(handle)
        history = await handle.fetch_history()
    failed_activity = FULFILMENT[len(done_before)]
    assert result.status == OrderStatus.COMPENSATED
    assert result.failed_step == fail_at
    assert result.compensations == compensations
    assert fail_at in result.message and (result.failure_reason or "") in result.message
    assert scheduled_activities(history) == [*done_before, failed_activity, *compensations]
    summary = ledger.orders_frame().set_index("order_id")
    if done_before:
        assert summary.loc[order_id, "units_held"] == 0
        assert summary.loc[order_id, "net_charged"] == 0
    else:
        assert kinds(ledger, order_id) == []
    assert ledger.stock().get("PROD-001", 10_000) == stock_before.get("PROD-001", 10_000)


@pytest.mark.parametrize("fail_at", ["inventory", "payment", "delivery"])
async def test_transient_failures_are_retried_then_the_order_completes_without_doing_twice(
    time_skipping: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
    order_id: str,
    fail_at: str,
) -> None:
    async with running_worker(time_skipping.client, task_queue):
        order = make_order(400, order_id, fail_at=fail_at, transient_failures=2)
        handle = await place_order(time_skipping.client, order, task_queue)
        result = await await_result(handle)
        history = await handle.fetch_history()
    attempts = {
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    }
    assert result.status == OrderStatus.COMPLETED
    assert attempts == {1, 3}  # the flaky step succeeded on its third attempt
    # The first two attempts did the work but "lost" the answer: still one of each.
    assert kinds(ledger, order_id) == ["reserve", "charge", "ship"]


async def test_workflow_refuses_an_invalid_order_before_any_activity(
    time_skipping: WorkflowEnvironment, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    bad = make_order(100, order_id)
    bad.total_amount = 250  # does not match the items: a client that skipped validation
    async with running_worker(time_skipping.client, task_queue):
        handle = await time_skipping.client.start_workflow(
            OrderWorkflow.run, bad, id=workflow_id_for(order_id), task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        history = await handle.fetch_history()
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == "InvalidOrder"
    assert "does not match the items" in failure.value.cause.message
    assert scheduled_activities(history) == []
    assert kinds(ledger, order_id) == []
