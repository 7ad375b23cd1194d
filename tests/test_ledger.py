"""The ledger's promise: every operation happens once per order run, and undoing balances."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from order_management.ledger import DEFAULT_STOCK, Ledger, OrderRun, OutOfStock
from order_management.shared import OrderItem

RUN = OrderRun("ORDER-1", "run-1")
ITEMS = [OrderItem("PROD-A", 2, 10.0), OrderItem("PROD-B", 1, 5.0)]


def test_repeating_an_operation_returns_the_first_reference_and_changes_nothing(
    ledger: Ledger,
) -> None:
    reservation = ledger.reserve(RUN, ITEMS)
    charge = ledger.charge(RUN, 25.0)
    shipment = ledger.ship(RUN)
    assert ledger.reserve(RUN, ITEMS) == reservation
    assert ledger.charge(RUN, 25.0) == charge
    assert ledger.ship(RUN) == shipment
    assert [e["kind"] for e in ledger.entries()] == ["reserve", "reserve", "charge", "ship"]
    assert ledger.stock() == {"PROD-A": DEFAULT_STOCK - 2, "PROD-B": DEFAULT_STOCK - 1}


def test_concurrent_retries_of_one_charge_charge_once(ledger: Ledger) -> None:
    with ThreadPoolExecutor(8) as pool:
        references = set(pool.map(lambda _: ledger.charge(RUN, 25.0), range(16)))
    assert len(references) == 1
    assert [e["kind"] for e in ledger.entries()] == ["charge"]


def test_release_and_refund_undo_once_and_balance(ledger: Ledger) -> None:
    ledger.reserve(RUN, ITEMS)
    ledger.charge(RUN, 25.0)
    for _ in range(2):
        ledger.refund(RUN)
        ledger.release(RUN)
    summary = ledger.orders_frame().iloc[0]
    assert (summary["refund"], summary["release"]) == (1, 2)  # two item lines released once
    assert summary["units_held"] == 0 and summary["net_charged"] == 0
    assert ledger.stock() == {"PROD-A": DEFAULT_STOCK, "PROD-B": DEFAULT_STOCK}


def test_undoing_what_never_happened_is_a_no_op(ledger: Ledger) -> None:
    assert ledger.release(RUN) is None
    assert ledger.refund(RUN) is None
    assert ledger.entries() == []


def test_out_of_stock_reserves_nothing(ledger: Ledger) -> None:
    with pytest.raises(OutOfStock):
        ledger.reserve(
            RUN, [OrderItem("PROD-A", 1, 1.0), OrderItem("PROD-B", DEFAULT_STOCK + 1, 1.0)]
        )
    assert ledger.entries() == []
    assert ledger.stock().get("PROD-A", DEFAULT_STOCK) == DEFAULT_STOCK


def test_another_run_of_the_same_order_is_a_new_purchase(ledger: Ledger) -> None:
    first = ledger.charge(RUN, 25.0)
    second = ledger.charge(OrderRun("ORDER-1", "run-2"), 25.0)
    assert first != second
