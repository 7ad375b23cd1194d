"""Shared types: the order a customer places, what the workflow reports back, and the rules
that decide whether an order is valid.

Everything here crosses a boundary (client -> Temporal -> worker), so it is made of plain
dataclasses that Temporal's JSON converter can round-trip, and it is deterministic so the
workflow sandbox can import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TASK_QUEUE = "order-management-task-queue"

APPROVAL_THRESHOLD = 1000.00
"""Orders strictly above this total wait for a human decision."""

DEFAULT_APPROVAL_TIMEOUT_SECONDS = 5 * 60.0
DEFAULT_MOCK_DELAY_SECONDS = 0.0
MAX_MOCK_DELAY_SECONDS = 60.0

# The three business steps, in the order the workflow runs them. The failure flags of an
# order name a step by its short name; the activities carry Temporal's names.
FAILURE_STEPS = ("inventory", "payment", "delivery")


class OrderStatus:
    """Every value `OrderWorkflow.get_status` can return."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RESERVING_INVENTORY = "reserving_inventory"
    PROCESSING_PAYMENT = "processing_payment"
    INITIATING_DELIVERY = "initiating_delivery"
    COMPLETED = "completed"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"

    ALL = (
        PENDING,
        AWAITING_APPROVAL,
        APPROVED,
        RESERVING_INVENTORY,
        PROCESSING_PAYMENT,
        INITIATING_DELIVERY,
        COMPLETED,
        REJECTED,
        APPROVAL_TIMED_OUT,
        COMPENSATING,
        COMPENSATED,
    )
    FINAL = (COMPLETED, REJECTED, APPROVAL_TIMED_OUT, COMPENSATED)


@dataclass
class OrderItem:
    product_id: str
    quantity: int
    price: float


@dataclass
class Order:
    """An order as the customer placed it, plus knobs a learner can turn.

    The knobs travel with the order (not with the worker) so that every worker treats the
    order the same way and its history explains itself.
    """

    order_id: str
    customer_id: str
    items: list[OrderItem]
    total_amount: float
    approval_timeout_seconds: float = DEFAULT_APPROVAL_TIMEOUT_SECONDS
    fail_at: str | None = None
    """Which step fails: "inventory", "payment" or "delivery" (None: no failure)."""
    transient_failures: int = 0
    """0: the failing step fails for good. N > 0: it fails N attempts, then succeeds."""
    mock_delay_seconds: float = DEFAULT_MOCK_DELAY_SECONDS
    """How long each mock service takes to answer."""

    @property
    def requires_approval(self) -> bool:
        return self.total_amount > APPROVAL_THRESHOLD


@dataclass
class StepRecord:
    """One business step that succeeded, with the reference its service gave back."""

    activity: str
    reference: str


@dataclass
class OrderResult:
    status: str
    message: str
    transaction_id: str | None = None
    reservation_id: str | None = None
    tracking_number: str | None = None
    failed_step: str | None = None
    failure_reason: str | None = None
    compensations: list[str] = field(default_factory=list)


@dataclass
class OrderProgress:
    """Everything a notebook wants to show about a running order, in one query."""

    order_id: str
    status: str
    requires_approval: bool
    approval_decision: str | None
    """None until decided; then "approved", "rejected" or "timed_out"."""
    steps_done: list[StepRecord]
    compensations_run: list[str]
    failed_step: str | None
    failure_reason: str | None


class InvalidOrder(ValueError):
    """An order that must not be started. The message says what to fix."""


def workflow_id_for(order_id: str) -> str:
    return f"order-workflow-{order_id}"


def order_problems(order: Order) -> list[str]:
    """Everything wrong with an order, as sentences; an empty list means it may start."""
    problems: list[str] = []
    if not order.order_id or not order.order_id.strip():
        problems.append("the order needs an order id")
    elif not order.order_id.isprintable():
        problems.append("the order id must be printable text (no line breaks or tabs)")
    if not order.items:
        problems.append("the order has no items")
    for item in order.items:
        if not item.product_id or not item.product_id.isprintable():
            problems.append(f"product id {item.product_id!r} must be printable text")
        if not isinstance(item.quantity, int) or item.quantity <= 0:
            problems.append(f"{item.product_id!r}: quantity must be a whole number above 0")
        if not _is_finite(item.price) or item.price < 0:
            problems.append(f"{item.product_id!r}: price must be 0 or more")
    if not _is_finite(order.total_amount) or order.total_amount <= 0:
        problems.append("the total must be a finite amount above 0")
    elif not problems:
        items_total = sum(item.quantity * item.price for item in order.items)
        if abs(items_total - order.total_amount) >= 0.01:
            problems.append(
                f"the total {order.total_amount:.2f} does not match the items ({items_total:.2f})"
            )
    if order.fail_at is not None and order.fail_at not in FAILURE_STEPS:
        problems.append(
            f"unknown failure step {order.fail_at!r}; use one of {', '.join(FAILURE_STEPS)}"
        )
    if not isinstance(order.transient_failures, int) or order.transient_failures < 0:
        problems.append("transient failures must be a whole number, 0 or more")
    if not _is_finite(order.approval_timeout_seconds) or order.approval_timeout_seconds <= 0:
        problems.append("the approval timeout must be a number of seconds above 0")
    if not _is_finite(order.mock_delay_seconds) or not (
        0 <= order.mock_delay_seconds <= MAX_MOCK_DELAY_SECONDS
    ):
        problems.append(f"the mock delay must be between 0 and {MAX_MOCK_DELAY_SECONDS:g} seconds")
    return problems


def validate_order(order: Order) -> Order:
    """Return the order unchanged, or raise `InvalidOrder` with one line saying what is wrong."""
    problems = order_problems(order)
    if problems:
        label = order.order_id if order.order_id.isprintable() else repr(order.order_id)
        raise InvalidOrder(f"Invalid order {label or '(no id)'}: " + "; ".join(problems))
    return order


def _is_finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def make_order(
    amount: float,
    order_id: str | None = None,
    *,
    customer_id: str = "CUST-12345",
    product_id: str = "PROD-001",
    **knobs: object,
) -> Order:
    """A one-item order for `amount`, the shape the starter and the notebooks use.

    `knobs` are the optional `Order` fields (fail_at, transient_failures, ...).
    """
    return Order(
        order_id=order_id or f"ORDER-{_amount_label(amount)}",
        customer_id=customer_id,
        items=[OrderItem(product_id=product_id, quantity=1, price=amount)],
        total_amount=amount,
        **knobs,  # type: ignore[arg-type]
    )


def _amount_label(amount: float) -> str:
    """500 -> "500", 1000.5 -> "1000.5", 1000.01 -> "1000.01": how a person writes it."""
    return f"{amount:.2f}".rstrip("0").rstrip(".")
