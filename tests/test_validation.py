"""The validation every side uses: what makes an order invalid, in one readable line."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from order_management.beyond.batch import InvalidInterval, report_interval
from order_management.beyond.sub_orders import order_of_lines
from order_management.shared import InvalidOrder, Order, OrderItem, make_order, validate_order


def test_a_plain_order_is_valid() -> None:
    order = make_order(500)
    assert validate_order(order) is order
    assert order.order_id == "ORDER-500"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda o: o.items.clear(), "no items"),
        (lambda o: setattr(o.items[0], "quantity", 0), "quantity"),
        (lambda o: setattr(o.items[0], "quantity", -2), "quantity"),
        (lambda o: setattr(o.items[0], "price", -1.0), "price"),
        (lambda o: setattr(o, "total_amount", 500.02), "does not match"),
        (lambda o: setattr(o, "total_amount", math.inf), "finite"),
        (lambda o: setattr(o, "fail_at", "shipping"), "unknown failure step"),
        (lambda o: setattr(o, "transient_failures", -1), "transient"),
        (lambda o: setattr(o, "approval_timeout_seconds", 0), "approval timeout"),
        (lambda o: setattr(o, "mock_delay_seconds", 3600), "mock delay"),
        (lambda o: setattr(o, "order_id", " "), "order id"),
    ],
)
def test_invalid_orders_are_refused_with_one_line_saying_why(change, says: str) -> None:
    order = make_order(500)
    change(order)
    with pytest.raises(InvalidOrder) as refused:
        validate_order(order)
    message = str(refused.value)
    assert says in message
    assert "\n" not in message


def test_total_within_a_cent_of_the_items_is_accepted() -> None:
    order = Order("ORDER-X", "CUST-1", [OrderItem("PROD-001", 3, 0.1)], total_amount=0.3)
    validate_order(order)


@pytest.mark.parametrize(
    ("amount", "order_id"),
    [(500, "ORDER-500"), (1000.01, "ORDER-1000.01"), (1000.5, "ORDER-1000.5")],
)
def test_default_order_id_is_the_amount_as_a_person_writes_it(amount: float, order_id: str) -> None:
    assert make_order(amount).order_id == order_id


@pytest.mark.parametrize("lines", [[("PROD-001", 2, "120")], [("PROD-001", 2)], "PROD-001"])
def test_split_order_lines_of_the_wrong_shape_are_refused_in_one_line(lines: object) -> None:
    with pytest.raises(InvalidOrder, match=r"each line must be \(product id, quantity, unit"):
        order_of_lines(lines, "ITEMS", "CUST")  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [0, -5, float("nan"), "60"])
def test_a_report_interval_of_no_time_is_refused_in_one_line(minutes: object) -> None:
    with pytest.raises(
        InvalidInterval,
        match="REPORT_EVERY_MINUTES = .*: the report interval must be above 0 minutes",
    ):
        report_interval(minutes)  # type: ignore[arg-type]
    assert report_interval(0.5) == timedelta(seconds=30)
