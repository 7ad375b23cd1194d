"""Properties that must hold for every input, not just the examples we thought of.

- The saga, on the time-skipping server: whichever step fails and however many times a step
  fails before it succeeds, the compensations that run are exactly the undos of the steps
  that succeeded, most recent first, and the ledger nets to zero for a compensated order.
- Bad input, fuzzed: `validate_order` and the starter's argument parsing answer with one
  line and change nothing, whatever they are given; never a traceback.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from order_management import starter
from order_management.history import scheduled_activities
from order_management.ledger import Ledger
from order_management.orders import await_result, place_order
from order_management.shared import (
    InvalidOrder,
    Order,
    OrderItem,
    OrderStatus,
    make_order,
    validate_order,
)
from tests.helpers.servers import free_port, running_worker

# The saga as the issue states it, written out independently of the workflow's own tables.
STEP_ORDER = ["inventory", "payment", "delivery"]
ACTION = {
    "inventory": "reserve_inventory",
    "payment": "process_payment",
    "delivery": "initiate_delivery",
}
UNDO = {"inventory": "release_inventory", "payment": "refund_payment", "delivery": None}
LEDGER_KIND = {"inventory": "reserve", "payment": "charge", "delivery": "ship"}
UNDO_KIND = {"inventory": "release", "payment": "refund"}


@pytest.fixture(scope="module")
async def saga_worker(
    time_skipping: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Ledger]]:
    """One worker and one ledger for every example (a worker per example would be slow)."""
    path = tmp_path_factory.mktemp("saga") / "ledger.db"
    task_queue = f"saga-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ORDER_LEDGER_DB", str(path))
        async with running_worker(time_skipping.client, task_queue):
            yield task_queue, Ledger(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fail_at=st.sampled_from([None, *STEP_ORDER]), transient=st.integers(0, 6))
async def test_compensations_are_the_undos_of_succeeded_steps_in_reverse(
    time_skipping: WorkflowEnvironment,
    saga_worker: tuple[str, Ledger],
    fail_at: str | None,
    transient: int,
) -> None:
    task_queue, ledger = saga_worker
    order = make_order(
        250,
        f"P-{uuid.uuid4().hex[:10]}",
        fail_at=fail_at,
        transient_failures=transient if fail_at else 0,
    )
    handle = await place_order(time_skipping.client, order, task_queue)
    result = await await_result(handle, timeout=60)
    history = await handle.fetch_history()

    fails_for_good = fail_at is not None and transient == 0
    succeeded = STEP_ORDER[: STEP_ORDER.index(fail_at)] if fails_for_good else STEP_ORDER
    undos = [UNDO[step] for step in reversed(succeeded) if UNDO[step]] if fails_for_good else []
    attempted = succeeded + ([fail_at] if fails_for_good else [])

    assert result.status == (OrderStatus.COMPENSATED if fails_for_good else OrderStatus.COMPLETED)
    assert result.compensations == undos
    assert scheduled_activities(history) == [ACTION[step] for step in attempted] + undos
    entries = ledger.entries(order.order_id)
    assert [entry["kind"] for entry in entries] == [LEDGER_KIND[step] for step in succeeded] + [
        UNDO_KIND[step] for step in reversed(succeeded) if fails_for_good and UNDO[step]
    ]
    if fails_for_good:  # stock back, money back
        assert sum(e["quantity"] or 0 for e in entries if e["kind"] == "reserve") == sum(
            e["quantity"] or 0 for e in entries if e["kind"] == "release"
        )
        assert sum(e["amount"] or 0 for e in entries) == 0
    if fail_at and transient:
        # The failing step ran exactly transient + 1 times; each earlier step only once.
        attempts = [
            event.activity_task_started_event_attributes.attempt
            for event in history.events
            if event.HasField("activity_task_started_event_attributes")
        ]
        assert attempts[STEP_ORDER.index(fail_at)] == transient + 1
        assert sorted(attempts)[:-1] == [1] * (len(attempts) - 1)


# -- fuzzed bad input ------------------------------------------------------------------------

WEIRD_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.sampled_from([0, -0.0, 1e-9, 0.005, 999.999, 1000.0, 1000.004, 1e308, True, False]),
)
# Any text, line breaks and control characters included (surrogates cannot be encoded).
WEIRD_TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["", " ", "ORDER-1", "\u00e9t\u00e9", "ORDER\n2", "PROD\t1"]),
)

ITEMS = st.lists(
    st.builds(OrderItem, product_id=WEIRD_TEXT, quantity=WEIRD_NUMBERS, price=WEIRD_NUMBERS),
    max_size=3,
)
ORDERS = st.builds(
    Order,
    order_id=WEIRD_TEXT,
    customer_id=WEIRD_TEXT,
    items=ITEMS,
    total_amount=WEIRD_NUMBERS,
    approval_timeout_seconds=WEIRD_NUMBERS,
    fail_at=st.one_of(st.none(), st.sampled_from(STEP_ORDER), WEIRD_TEXT),
    transient_failures=WEIRD_NUMBERS,
    mock_delay_seconds=WEIRD_NUMBERS,
)


@settings(max_examples=400, deadline=None)
@given(order=ORDERS)
def test_validate_order_answers_in_one_line_and_never_changes_the_order(order: Order) -> None:
    before = copy.deepcopy(order)
    try:
        returned = validate_order(order)
    except InvalidOrder as err:
        message = str(err)
        assert message.startswith("Invalid order ")
        assert "\n" not in message and "\r" not in message
    else:
        assert returned is order
        # Whatever passes is an order the workflow can run: finite, positive, consistent.
        assert math.isfinite(order.total_amount) and order.total_amount > 0
        assert order.items and all(item.quantity > 0 for item in order.items)
    assert _same(order, before)


def _same(a: Order, b: Order) -> bool:
    # repr, not ==, so that a NaN compares equal to itself.
    return repr(a) == repr(b)


OPTION = st.sampled_from(
    [
        "--order-id",
        "--fail-at",
        "--transient",
        "--approval-timeout",
        "--delay",
        "--no-wait",
        "--fail",
        "--tran",
        "-x",
        "--",
    ]
)
VALUE = st.one_of(
    WEIRD_TEXT,
    WEIRD_NUMBERS.map(str),
    st.sampled_from(
        [
            "inventory",
            "payment",
            "shipping",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "-5",
            "0",
            "0x10",
            "1_000",
            "500",
            "1000.01",
            "½",
            "٣",
            " ",
            "60.5",
            "3600",
        ]
    ),
)
ARGV = st.one_of(
    st.lists(st.one_of(OPTION, VALUE), max_size=7),
    # An amount, then options with values: most of these parse, and some still fail validation.
    st.builds(
        lambda amount, pairs: [amount, *(token for pair in pairs for token in pair)],
        VALUE,
        st.lists(st.tuples(OPTION, VALUE), max_size=3),
    ),
    # Arguments that parse but describe an order validation refuses.
    st.builds(
        lambda amount, delay, order_id: [amount, "--delay", delay, "--order-id", order_id],
        st.floats(0.01, 1e6).map(str),
        st.floats(0, 1e9).map(str),
        st.text(" \t", min_size=1, max_size=3) | st.just("A-1"),
    ),
)


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A Temporal address with nothing behind it, and a ledger path: if the starter ever got
    past validation it would have to connect (exit 1) or write (a file would appear)."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"localhost:{free_port()}")
    ledger = tmp_path / "ledger.db"
    monkeypatch.setenv("ORDER_LEDGER_DB", str(ledger))
    return ledger


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(argv=ARGV)
def test_starter_rejects_bad_arguments_in_one_line_before_touching_anything(
    argv: list[str], nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    try:
        order, _ = starter.parse_order(argv)
    except SystemExit as exit_:
        event("refused by the parser")
        assert exit_.code == 2
        _assert_one_line_complaint(capsys)
        return
    try:
        validate_order(order)
    except InvalidOrder:
        event("invalid order")
        assert starter.main(argv) == 2  # 1 would mean it went on to connect
        _assert_one_line_complaint(capsys)
    assert not nowhere.exists()


def _assert_one_line_complaint(capsys: pytest.CaptureFixture[str]) -> None:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
