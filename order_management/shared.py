"""Shared types: the order a customer places, what the workflow reports back, the rules
that decide whether an order is valid, and how an order sent as JSON by any client is read.

Everything here crosses a boundary (client -> Temporal -> worker), so it is made of plain
dataclasses that Temporal's JSON converter can round-trip, and it is deterministic so the
workflow sandbox can import it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from order_management.errors import WorkshopError

TASK_QUEUE = "order-management-task-queue"

APPROVAL_THRESHOLD = 1000.00
"""Orders strictly above this total wait for a human decision."""

DEFAULT_APPROVAL_TIMEOUT_SECONDS = 5 * 60.0
DEFAULT_MOCK_DELAY_SECONDS = 0.0
MAX_MOCK_DELAY_SECONDS = 60.0


class Step:
    """The three business steps' short names: an order's failure flags name a step so, and
    the workflow and the activities use them; the activities carry Temporal's names."""

    INVENTORY = "inventory"
    PAYMENT = "payment"
    DELIVERY = "delivery"


FAILURE_STEPS = (Step.INVENTORY, Step.PAYMENT, Step.DELIVERY)
"""The steps in the order the workflow runs them."""


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
    INVALID = "invalid"
    """The input is no valid order: the workflow failed before any step."""

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
        INVALID,
    )
    FINAL = (COMPLETED, REJECTED, APPROVAL_TIMED_OUT, COMPENSATED, INVALID)


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
    ignored_messages: list[str] = field(default_factory=list)
    """Signals the order did not act on, one sentence each (a value that is no decision, or
    a decision that came too late)."""


class InvalidOrder(WorkshopError, ValueError):
    """An order that must not be started. The message says what to fix."""


def workflow_id_for(order_id: str) -> str:
    return f"order-workflow-{order_id}"


def order_problems(order: Order) -> list[str]:
    """Everything wrong with an order, as sentences; an empty list means it may start."""
    if isinstance(order, UnreadableOrder):
        return [order.problem]
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
        if isinstance(order, UnreadableOrder):
            label = "input"
        raise InvalidOrder(f"Invalid order {label or '(no id)'}: " + "; ".join(problems))
    return order


# -- orders from any client ------------------------------------------------------------------
# The temporal CLI, the Web UI and the other SDKs send an order as JSON they built themselves.
# The worker reads it with `order_from_json` (see `worker.OrderInputConverter`), which never
# raises: JSON that cannot be an order becomes an `UnreadableOrder` saying why, and the
# workflow refuses it with its first line, like any invalid order.

ORDER_JSON_EXAMPLE = (
    '{"order_id": "ORDER-1", "customer_id": "CUST-1", "items": [{"product_id": '
    '"PROD-001", "quantity": 1, "price": 50.0}], "total_amount": 50.0}'
)
MAX_PROBLEMS_SHOWN = 5


@dataclass
class UnreadableOrder(Order):
    """Start input that cannot be an order. `validate_order` refuses it with `problem`."""

    problem: str = "the input is not an order"


def unreadable(
    problem: str, order_id: str = "", customer_id: str = "", items: list[OrderItem] | None = None
) -> UnreadableOrder:
    """An `UnreadableOrder` saying `problem`, with the fields that could be read."""
    return UnreadableOrder(
        order_id=order_id,
        customer_id=customer_id,
        items=items or [],
        total_amount=0.0,
        problem=problem,
    )


NO_ORDER = unreadable(
    f"no order was sent; start the workflow with one order as its input, e.g. {ORDER_JSON_EXAMPLE}"
)
"""What a workflow gets when a client starts it with no input at all (the CLI without
--input). Never changed: it is a default argument."""


def json_preview(value: object, limit: int = 60) -> str:
    """`value` as the JSON a client sent, on one short line."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not JSON: bytes from a binary payload, say
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _NotThat(ValueError):
    """A JSON value of the wrong kind for its field."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _NotThat
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _NotThat
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        raise _NotThat from None


def _whole_number(value: object) -> int:
    # JSON has one number type: 2.0 is 2, but 2.5 is no quantity (the SDK would truncate it).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _NotThat
    return value


@dataclass(frozen=True)
class _Field:
    what: str
    """What the field must be, as the refusal says it."""
    read: Callable[[object], Any]


_ITEM_FIELDS = {
    "product_id": _Field("text", _text),
    "quantity": _Field("a whole number above 0", _whole_number),
    "price": _Field("a number, 0 or more", _number),
}
_ORDER_FIELDS = {
    "order_id": _Field("text", _text),
    "customer_id": _Field("text", _text),
    "total_amount": _Field("a number above 0", _number),
    "approval_timeout_seconds": _Field("a number of seconds above 0", _number),
    "fail_at": _Field(
        f"one of {', '.join(map(json.dumps, FAILURE_STEPS))} or null", _optional_text
    ),
    "transient_failures": _Field("a whole number, 0 or more", _whole_number),
    "mock_delay_seconds": _Field(
        f"a number of seconds from 0 to {MAX_MOCK_DELAY_SECONDS:g}", _number
    ),
}


def _required(cls: type) -> set[str]:
    return {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}


def _read_fields(
    value: dict[str, Any],
    spec: dict[str, _Field],
    required: set[str],
    where: str,
    problems: list[str],
) -> dict[str, Any]:
    """The fields of `spec` found in `value`, converted; a sentence in `problems` for each
    one missing or of the wrong kind. Unknown fields are ignored, as the SDK does."""
    found = {}
    for name, spec_field in spec.items():
        if name not in value:
            if name in required:
                problems.append(f"{where}{name} is missing: it must be {spec_field.what}")
            continue
        try:
            found[name] = spec_field.read(value[name])
        except _NotThat:
            problems.append(
                f"{where}{name} must be {spec_field.what} (got {json_preview(value[name])})"
            )
    return found


def _read_items(value: dict[str, Any], problems: list[str]) -> list[OrderItem]:
    if "items" not in value:
        problems.append(
            "items is missing: it must be a list of items like "
            '{"product_id": "PROD-001", "quantity": 1, "price": 50.0}'
        )
        return []
    if not isinstance(value["items"], list):
        problems.append(f"items must be a list of items (got {json_preview(value['items'])})")
        return []
    items = []
    for index, item in enumerate(value["items"]):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            problems.append(
                f'{where} must be an item like {{"product_id": "PROD-001", '
                f'"quantity": 1, "price": 50.0}} (got {json_preview(item)})'
            )
            continue
        found = _read_fields(item, _ITEM_FIELDS, _required(OrderItem), f"{where}.", problems)
        if len(found) == len(_ITEM_FIELDS):
            items.append(OrderItem(**found))
    return items


def order_from_json(value: object) -> Order:
    """The order in `value` (JSON as any client sends it), or an `UnreadableOrder` naming each
    field that is missing or of the wrong kind. Its values are judged later, by
    `validate_order`, as a typed client's are."""
    if not isinstance(value, dict):
        return unreadable(
            f"an order is a JSON object like {ORDER_JSON_EXAMPLE} (got {json_preview(value)})"
        )
    problems: list[str] = []
    found = _read_fields(value, _ORDER_FIELDS, _required(Order), "", problems)
    items = _read_items(value, problems)
    if problems:
        if len(problems) > MAX_PROBLEMS_SHOWN:
            problems[MAX_PROBLEMS_SHOWN:] = [f"and {len(problems) - MAX_PROBLEMS_SHOWN} more"]
        return unreadable(
            "; ".join(problems), found.get("order_id", ""), found.get("customer_id", ""), items
        )
    return Order(items=items, **found)


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
