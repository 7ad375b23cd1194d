"""Nothing lost under load: 500 orders at once through one worker, on the real dev server.

A seeded random mix of amounts, approvals, rejections, approval timeouts, and transient and
permanent failures at each step. Every order must end in the status its flags imply, and the
ledger must balance: a completed order reserved, charged and shipped exactly once; a
compensated one got its stock back and every charge refunded; a rejected or timed-out one
touched nothing. (How fast this goes is the benchmark's business, not this test's.)
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass

from temporalio.client import Client

from order_management.ledger import DEFAULT_STOCK, Ledger
from order_management.orders import await_result, place_order, send_approval
from order_management.shared import FAILURE_STEPS, Order, OrderItem, OrderStatus
from tests.helpers.servers import running_worker

ORDERS = 500
SEED = 20241125
PRODUCTS = ("PROD-001", "PROD-002", "PROD-003")
SHORT_APPROVAL_TIMEOUT = 1.0
RESULT_TIMEOUT = 240.0

# What each way an order can end leaves in the ledger, step by step.
EFFECTS = {
    "completed": ["reserve", "charge", "ship"],
    "compensated at inventory": [],
    "compensated at payment": ["reserve", "release"],
    "compensated at delivery": ["reserve", "charge", "refund", "release"],
    "rejected": [],
    "timed out": [],
}


@dataclass(frozen=True)
class Case:
    order: Order
    decision: bool | None
    """For an order over $1000: approve, reject, or None to let the approval time out."""

    @property
    def outcome(self) -> str:
        """What the flags imply, worked out here independently of the workflow."""
        if self.order.requires_approval and self.decision is not True:
            return "rejected" if self.decision is False else "timed out"
        if self.order.fail_at and self.order.transient_failures == 0:
            return f"compensated at {self.order.fail_at}"
        return "completed"

    @property
    def status(self) -> str:
        return {
            "rejected": OrderStatus.REJECTED,
            "timed out": OrderStatus.APPROVAL_TIMED_OUT,
            "completed": OrderStatus.COMPLETED,
        }.get(self.outcome, OrderStatus.COMPENSATED)


def mixed_orders(rng: random.Random, batch: str) -> list[Case]:
    cases = []
    for n in range(ORDERS):
        needs_approval = rng.random() < 0.3
        quantity = rng.randint(1, 3)
        price = round(rng.uniform(1001, 3000) if needs_approval else rng.uniform(1, 333), 2)
        decision = rng.choice([True, False, None]) if needs_approval else None
        fail_at = rng.choice([None, None, *FAILURE_STEPS])
        order = Order(
            order_id=f"LOAD-{batch}-{n:03d}",
            customer_id=f"CUST-{n % 17}",
            items=[OrderItem(rng.choice(PRODUCTS), quantity, price)],
            total_amount=round(quantity * price, 2),
            approval_timeout_seconds=SHORT_APPROVAL_TIMEOUT if decision is None else 120.0,
            fail_at=fail_at,
            transient_failures=rng.choice([0, 1, 2]) if fail_at else 0,
            mock_delay_seconds=0.0,
        )
        cases.append(Case(order, decision))
    return cases


async def _run(client: Client, case: Case, task_queue: str) -> str:
    handle = await place_order(client, case.order, task_queue)
    if case.decision is not None:
        await send_approval(handle, case.decision)
    return (await await_result(handle, RESULT_TIMEOUT)).status


async def test_500_concurrent_orders_end_as_their_flags_say_and_the_ledger_balances(
    dev_client: Client, ledger: Ledger, task_queue: str, order_id: str
) -> None:
    cases = mixed_orders(random.Random(SEED), batch=order_id)
    outcomes = Counter(case.outcome for case in cases)
    assert len(outcomes) == len(EFFECTS) and min(outcomes.values()) >= 10, outcomes

    async with running_worker(dev_client, task_queue):
        statuses = await asyncio.gather(*(_run(dev_client, case, task_queue) for case in cases))

    wrong = [
        (case.order.order_id, case.outcome, status)
        for case, status in zip(cases, statuses)
        if status != case.status
    ]
    assert wrong == []

    entries: dict[str, list[dict]] = {}
    for entry in ledger.entries():
        entries.setdefault(entry["order_id"], []).append(entry)
    for case in cases:
        mine = entries.get(case.order.order_id, [])
        assert sorted(e["kind"] for e in mine) == sorted(EFFECTS[case.outcome]), case
        held = sum(e["quantity"] for e in mine if e["kind"] == "reserve") - sum(
            e["quantity"] for e in mine if e["kind"] == "release"
        )
        charged = round(sum(e["amount"] or 0 for e in mine), 2)
        kept = case.outcome == "completed"
        item = case.order.items[0]
        assert (held, charged) == ((item.quantity, case.order.total_amount) if kept else (0, 0))

    sold = Counter()
    for case in cases:
        if case.outcome == "completed":
            sold[case.order.items[0].product_id] += case.order.items[0].quantity
    assert ledger.stock() == {product: DEFAULT_STOCK - sold[product] for product in PRODUCTS}
