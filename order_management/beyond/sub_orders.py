"""Child workflows: an order with several products split into sub-orders, one per product,
each shipped from its own warehouse and run by its own `OrderWorkflow`.

`SplitOrderWorkflow` (the parent) shows three things beyond the basics:

- child workflows: each sub-order is a full `OrderWorkflow` with its own id, history,
  retries and compensation; the parent waits for all of them;
- deterministic side effects: sub-order ids come from `workflow.uuid4()` and warehouses are
  picked with `workflow.random()`. Both are seeded from the history, so a replay (after a
  worker crash) gets the same ids and warehouses; `uuid.uuid4()` or `random` would not;
- typed search attributes (see `search_attributes`): the parent records its customer,
  total, stage and warehouses, so visibility queries can find it. Register them first.

It ends by notifying the customer (the `send_notification` activity).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from order_management.beyond.notifications import Notification, send_notification
    from order_management.beyond.search_attributes import (
        CUSTOMER_ID,
        ORDER_STAGE,
        ORDER_TOTAL,
        SHIPS_FROM,
        SUB_ORDER_COUNT,
    )
    from order_management.shared import (
        NO_ORDER,
        InvalidOrder,
        Order,
        OrderItem,
        OrderStatus,
        workflow_id_for,
    )
    from order_management.workflow import STEP_RETRY, OrderWorkflow, refuse_if_invalid

WAREHOUSES = ("north", "south", "east", "west")
NOTIFY_TIMEOUT = timedelta(seconds=10)


@dataclass
class SubOrder:
    """One part of a split order: what it holds, where it ships from, how it ended."""

    order_id: str
    warehouse: str
    total_amount: float
    status: str | None = None
    message: str | None = None


@dataclass
class SplitOrderResult:
    order_id: str
    stage: str
    """completed (every sub-order), partially_completed or failed (none completed)."""
    sub_orders: list[SubOrder] = field(default_factory=list)
    notification_id: str | None = None


def split_workflow_id(order_id: str) -> str:
    return f"split-order-{order_id}"


def group_items(order: Order) -> list[list[OrderItem]]:
    """The order's items grouped by product, in the order each product first appears."""
    groups: dict[str, list[OrderItem]] = {}
    for item in order.items:
        groups.setdefault(item.product_id, []).append(item)
    return list(groups.values())


def final_stage(sub_orders: list[SubOrder]) -> str:
    completed = sum(sub.status == OrderStatus.COMPLETED for sub in sub_orders)
    if completed == len(sub_orders):
        return "completed"
    return "partially_completed" if completed else "failed"


@workflow.defn
class SplitOrderWorkflow:
    """A multi-product order, fulfilled as one child `OrderWorkflow` per product.

    Query `get_sub_orders()` lists the sub-orders (ids, warehouses, outcomes so far).
    """

    @workflow.init
    def __init__(self, order: Order = NO_ORDER) -> None:  # NO_ORDER: see OrderWorkflow
        self._sub_orders: list[SubOrder] = []

    @workflow.run
    async def run(self, order: Order = NO_ORDER) -> SplitOrderResult:
        refuse_if_invalid(order)
        children = [self._sub_order(order, items) for items in group_items(order)]
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(order.customer_id),
                ORDER_TOTAL.value_set(order.total_amount),
                ORDER_STAGE.value_set("fulfilling"),
                SUB_ORDER_COUNT.value_set(len(children)),
                SHIPS_FROM.value_set(sorted({s.warehouse for s in self._sub_orders})),
            ]
        )
        await asyncio.gather(
            *(self._fulfil(sub, child) for sub, child in zip(self._sub_orders, children))
        )
        stage = final_stage(self._sub_orders)
        workflow.upsert_search_attributes([ORDER_STAGE.value_set(stage)])
        notification_id = await workflow.execute_activity(
            send_notification,
            self._notification(order, stage),
            start_to_close_timeout=NOTIFY_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        return SplitOrderResult(
            order_id=order.order_id,
            stage=stage,
            sub_orders=list(self._sub_orders),
            notification_id=notification_id,
        )

    async def _fulfil(self, sub: SubOrder, child: Order) -> None:
        """Run one sub-order as a child workflow; its outcome shows as soon as it ends."""
        result = await workflow.execute_child_workflow(
            OrderWorkflow.run, child, id=workflow_id_for(child.order_id)
        )
        sub.status, sub.message = result.status, result.message

    def _sub_order(self, order: Order, items: list[OrderItem]) -> Order:
        # workflow.uuid4() and workflow.random(): random, yet the same on every replay.
        sub_order_id = f"{order.order_id}-{workflow.uuid4().hex[:6].upper()}"
        warehouse = workflow.random().choice(WAREHOUSES)
        total = round(sum(item.quantity * item.price for item in items), 2)
        self._sub_orders.append(SubOrder(sub_order_id, warehouse, total))
        # The sub-order keeps the order's knobs (delay, failure flags, approval timeout).
        return replace(order, order_id=sub_order_id, items=items, total_amount=total)

    @staticmethod
    def _notification(order: Order, stage: str) -> Notification:
        return Notification(
            customer_id=order.customer_id,
            subject=f"Order {order.order_id}: {stage.replace('_', ' ')}",
            body=f"Your order {order.order_id} (${order.total_amount:.2f}) was split into "
            f"{len(group_items(order))} shipments; {stage.replace('_', ' ')}.",
        )

    @workflow.query
    def get_sub_orders(self) -> list[SubOrder]:
        return list(self._sub_orders)


# -- building a split order ---------------------------------------------------------------


def order_of_lines(
    lines: list[tuple[str, int, float]], order_id: str, customer_id: str, **knobs: object
) -> Order:
    """An order of several lines, each (product id, quantity, unit price), totalled.
    Raises `InvalidOrder` (one line) for a line of another shape or a price that is no number."""
    try:
        items = [OrderItem(product, quantity, price) for product, quantity, price in lines]
        total = round(sum(item.quantity * item.price for item in items), 2)
    except (TypeError, ValueError):
        raise InvalidOrder(
            f"Invalid order {order_id}: each line must be (product id, quantity, "
            "unit price), e.g. ('PROD-001', 2, 120.0); got "
            f"{lines!r}"[:300]
        ) from None
    return Order(order_id, customer_id, items, total, **knobs)  # type: ignore[arg-type]
