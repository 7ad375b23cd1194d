"""Beyond the basics, on the real dev server: split orders run as child workflows, typed
search attributes find them, the scheduled ledger report adds up the books, and a customer
is notified exactly once.

(The dev server, not the time-skipping one: these need custom search attributes and
schedules, which only the real server supports.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Replayer

from order_management.beyond.batch import LedgerReportWorkflow
from order_management.beyond.notifications import Notification, Outbox, SendKey
from order_management.beyond.search_attributes import (
    register_search_attributes,
    search_attributes_frame,
)
from order_management.beyond.sub_orders import (
    SplitOrderResult,
    SplitOrderWorkflow,
    order_of_lines,
    split_workflow_id,
)
from order_management.ledger import Ledger
from order_management.notebook.schedules import delete_schedule, schedule_runs_frame
from order_management.orders import OrderError
from order_management.shared import Order, OrderStatus, workflow_id_for
from tests.helpers.beyond import (
    approve_sub_orders,
    place_split_order,
    schedule_ledger_report,
    split_result,
)
from tests.helpers.servers import running_worker

WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
async def registered(dev_client: Client) -> Client:
    await register_search_attributes(dev_client)
    return dev_client


def three_lines_two_products(order_id: str, customer_id: str) -> Order:
    return order_of_lines(
        [("PROD-001", 2, 100.0), ("PROD-002", 1, 50.0), ("PROD-001", 1, 100.0)],
        order_id,
        customer_id,
    )


async def split_order(
    client: Client, order: Order, task_queue: str
) -> tuple[WorkflowHandle, SplitOrderResult]:
    handle = await place_split_order(client, order, task_queue)
    async with running_worker(client, task_queue):
        result = await split_result(handle, timeout=WAIT_SECONDS)
    return handle, result


async def test_registering_search_attributes_twice_adds_nothing_the_second_time(
    registered: Client,
) -> None:
    assert await register_search_attributes(registered) == []


async def test_split_order_runs_one_child_order_per_product_and_notifies_once(
    registered: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    order = three_lines_two_products(order_id, f"CUST-{order_id}")
    handle, result = await split_order(registered, order, task_queue)

    assert result.stage == "completed"
    assert [sub.total_amount for sub in result.sub_orders] == [300.0, 50.0]
    assert all(sub.status == OrderStatus.COMPLETED for sub in result.sub_orders)
    for sub in result.sub_orders:
        assert sub.order_id.startswith(f"{order_id}-")
        child = registered.get_workflow_handle(workflow_id_for(sub.order_id))
        description = await child.describe()
        assert description.parent_id == handle.id
    charges = ledger.orders_frame().set_index("order_id")["charge"]
    assert {sub.order_id: charges[sub.order_id] for sub in result.sub_orders} == {
        sub.order_id: 1 for sub in result.sub_orders
    }
    sent = Outbox(ledger.path).frame(order.customer_id)
    assert sent["notification_id"].tolist() == [result.notification_id]
    assert "split into 2 shipments; completed" in sent["body"].iloc[0]


async def test_split_order_replays_to_the_same_ids_and_warehouses(
    registered: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    handle, result = await split_order(
        registered, three_lines_two_products(order_id, "CUST-REPLAY"), task_queue
    )
    history = await handle.fetch_history()

    # workflow.uuid4() and workflow.random() come from the history's seed: a replay draws
    # the same sub-order ids and warehouses, so it issues the same commands.
    replayed = await Replayer(workflows=[SplitOrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert replayed.replay_failure is None
    assert len({sub.order_id for sub in result.sub_orders}) == 2


async def test_a_split_order_is_found_by_its_typed_search_attributes(
    registered: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    customer = f"CUST-{order_id}"
    _, result = await split_order(
        registered, three_lines_two_products(order_id, customer), task_queue
    )
    warehouse = result.sub_orders[0].warehouse

    frame = await search_attributes_frame(
        registered,
        f"CustomerId = '{customer}' AND OrderStage = 'completed' "
        f"AND OrderTotal > 300 AND ShipsFrom IN ('{warehouse}')",
        at_least=1,
        timeout=WAIT_SECONDS,
    )
    row = frame.iloc[0]
    assert len(frame) == 1
    assert row["workflow_id"] == split_workflow_id(order_id)
    assert (row["OrderTotal"], row["SubOrderCount"]) == (350.0, 2)
    assert sorted(row["ShipsFrom"]) == sorted({sub.warehouse for sub in result.sub_orders})

    none = await search_attributes_frame(
        registered, f"CustomerId = '{customer}' AND OrderTotal < 300"
    )
    assert none.empty


async def test_the_scheduled_report_adds_up_the_ledger_then_the_schedule_is_deleted(
    registered: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    dev_client = registered
    _, split = await split_order(
        dev_client, three_lines_two_products(order_id, "CUST-REPORT"), task_queue
    )
    schedule = await schedule_ledger_report(
        dev_client, timedelta(hours=1), schedule_id=f"report-{order_id}", task_queue=task_queue
    )
    try:
        async with running_worker(dev_client, task_queue):
            await schedule.trigger()
            runs = await schedule_runs_frame(dev_client, schedule, at_least=1, timeout=WAIT_SECONDS)
    finally:
        deleted = await delete_schedule(schedule)

    assert deleted
    assert await delete_schedule(schedule) is False  # a cell that deletes it can run twice
    assert runs["status"].tolist() == ["Completed"]
    assert runs["report"].iloc[0] == "2 orders, 350.00 charged, 0.00 refunded, 2 shipped"
    report = dev_client.get_workflow_handle_for(
        LedgerReportWorkflow.run, runs["workflow_id"].iloc[0]
    )
    assert (await report.result()).charged == sum(s.total_amount for s in split.sub_orders)
    assert Outbox(ledger.path).frame("shop-owner")["body"].tolist() == [runs["report"].iloc[0]]
    with pytest.raises(RPCError):
        await schedule.describe()


def test_a_retried_notification_is_sent_once(ledger: Ledger) -> None:
    outbox = Outbox(ledger.path)
    key = SendKey("wf", "run", "1")
    message = Notification("CUST-1", "Hello", "Your order shipped")

    first, retried = outbox.send(key, message), outbox.send(key, message)
    other = outbox.send(SendKey("wf", "run", "2"), message)

    assert first == retried != other
    assert outbox.frame("CUST-1")["notification_id"].tolist() == [first, other]


async def place_with_a_sub_order_over_1000(
    client: Client, order_id: str, task_queue: str
) -> WorkflowHandle:
    order = order_of_lines([("PROD-001", 1, 50.0), ("PROD-009", 1, 1500.0)], order_id, "CUST-BIG")
    return await place_split_order(client, order, task_queue)


async def test_a_split_order_waiting_on_an_approval_names_the_sub_order(
    registered: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    handle = await place_with_a_sub_order_over_1000(registered, order_id, task_queue)
    async with running_worker(registered, task_queue):
        with pytest.raises(OrderError, match="sub-orders still open: .+ over \\$1000 waits"):
            await split_result(handle, timeout=3)
        sub_orders = await handle.query(SplitOrderWorkflow.get_sub_orders)
    await handle.terminate("test over")

    (waiting,) = [sub for sub in sub_orders if sub.status is None]
    assert waiting.total_amount == 1500.0


async def test_approving_the_sub_orders_over_1000_lets_the_split_order_complete(
    registered: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    handle = await place_with_a_sub_order_over_1000(registered, order_id, task_queue)
    async with running_worker(registered, task_queue):
        approved = await approve_sub_orders(registered, handle)
        result = await split_result(handle, timeout=WAIT_SECONDS)

    assert [sub.order_id for sub in result.sub_orders if sub.total_amount > 1000] == approved
    assert len(approved) == 1
    assert result.stage == "completed"
