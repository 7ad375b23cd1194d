"""No client can brick an order: bad input from clients other than our typed API.

The `temporal` CLI (a real client, written in Go), an untyped Python client and hypothesis's
JSON talk to an order worker running as its own process, as in production. For every bad
message: the workflow's status, whether queries still answer, the ledger, and the worker's
output (one line for the case, never a traceback). Input that is no order fails the workflow
at once; a signal that is no decision is ignored and listed by get_progress; an update that
is none is refused by its validator.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from order_management.ledger import Ledger
from order_management.local import devserver
from order_management.notebook.worker_process import WorkerProcess
from order_management.orders import place_order
from order_management.shared import OrderStatus, make_order
from order_management.workflow import OrderWorkflow
from tests.helpers.servers import RunningServer

WAIT_SECONDS = 30.0
T = TypeVar("T")


@dataclass
class OrderWorker:
    """The worker process every test here talks to, and the ledger it writes."""

    process: WorkerProcess
    ledger: Ledger
    task_queue: str

    def mark(self) -> int:
        return len(self.process.output())

    def lines_since(self, mark: int, about: str) -> list[str]:
        """What the worker printed since `mark` about `about` (a workflow id). Lines about
        other workflows may come between: an activity of a terminated order, say."""
        printed = self.process.output()[mark:]
        assert "Traceback" not in printed, printed
        return [line for line in printed.splitlines() if about in line]


@pytest.fixture(scope="module")
def order_worker(
    dev_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OrderWorker]:
    ledger = tmp_path_factory.mktemp("bad-messages") / "ledger.db"
    task_queue = f"bad-messages-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ORDER_LEDGER_DB", str(ledger))
        worker = WorkerProcess.start(task_queue)
    try:
        yield OrderWorker(worker, Ledger(ledger), task_queue)
    finally:
        worker.stop()
    assert "Traceback" not in worker.output(), worker.output()


def temporal(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The `temporal` CLI, as typed in a terminal."""
    command = [str(devserver.temporal_binary()), *args, "--address", server.address]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str) -> T:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not done(value := await probe()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {WAIT_SECONDS:g} s")
        await asyncio.sleep(0.05)
    return value


async def event_types(handle: WorkflowHandle) -> list[str]:
    return [
        EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        for event in (await handle.fetch_history()).events
    ]


def order_json(order_id: str, **changes: Any) -> dict[str, Any]:
    """A valid $20 order as a JSON object, with `changes` (None deletes a field)."""
    order = {
        "order_id": order_id,
        "customer_id": "CUST-1",
        "items": [{"product_id": "PROD-001", "quantity": 2, "price": 10.0}],
        "total_amount": 20.0,
    }
    order.update(changes)
    return {key: value for key, value in order.items() if value is not None}


def bad_item(**changes: Any) -> list[dict[str, Any]]:
    return [{"product_id": "PROD-001", "quantity": 2, "price": 10.0, **changes}]


# -- start input that is no order ------------------------------------------------------------

# case -> (the --input, or None for none at all; what the failure must say)
NOT_ORDERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "a string": (lambda _: "not an order", 'an order is a JSON object like {"order_id"'),
    "a number": (lambda _: 42, "(got 42)"),
    "a list": (lambda _: [1, 2], "(got [1, 2])"),
    "null": (lambda _: None, "(got null)"),
    "a quantity in words": (
        lambda oid: order_json(oid, items=bad_item(quantity="two")),
        'items[0].quantity must be a whole number above 0 (got "two")',
    ),
    "a half quantity": (
        lambda oid: order_json(oid, items=bad_item(quantity=1.5)),
        "items[0].quantity must be a whole number above 0 (got 1.5)",
    ),
    "a total in quotes": (
        lambda oid: order_json(oid, total_amount="20"),
        'total_amount must be a number above 0 (got "20")',
    ),
    "items as one object": (
        lambda oid: order_json(oid, items={"product_id": "PROD-001"}),
        "items must be a list of items",
    ),
    "an id as a number": (lambda oid: order_json(7), "order_id must be text (got 7)"),
    "only an id": (lambda oid: {"order_id": oid}, "customer_id is missing: it must be text"),
    "an empty object": (lambda _: {}, "order_id is missing: it must be text"),
    "a quantity of 0": (
        lambda oid: order_json(oid, items=bad_item(quantity=0), total_amount=1),
        "quantity must be a whole number above 0",
    ),
    "a negative total": (
        lambda oid: order_json(oid, total_amount=-20),
        "the total must be a finite amount above 0",
    ),
    "an hour of mock delay": (
        lambda oid: order_json(oid, mock_delay_seconds=3600),
        "the mock delay must be between 0 and 60 seconds",
    ),
    "an unknown failure step": (
        lambda oid: order_json(oid, fail_at="shipping"),
        "unknown failure step 'shipping'",
    ),
}


async def assert_refused(
    handle: WorkflowHandle, says: str, worker: OrderWorker, mark: int, entries_before: int
) -> None:
    """Failed at once with InvalidOrder saying `says`; queries answer; nothing ran; the
    worker said so in one line."""
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), WAIT_SECONDS)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidOrder"
    assert cause.message.startswith("Invalid order ") and "\n" not in cause.message
    assert says in cause.message
    assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED
    assert await handle.query("get_status") == OrderStatus.INVALID
    events = await event_types(handle)
    assert "WORKFLOW_TASK_FAILED" not in events and "ACTIVITY_TASK_SCHEDULED" not in events
    assert len(worker.ledger.entries()) == entries_before
    assert worker.lines_since(mark, handle.id) == [
        f"OrderWorkflow {handle.id}: {cause.message}; the workflow fails before any step"
    ]


@pytest.mark.parametrize("case", NOT_ORDERS)
async def test_cli_start_input_that_is_no_order_fails_the_workflow_at_once(
    case: str, dev_server: RunningServer, dev_client: Client, order_worker: OrderWorker
) -> None:
    make_input, says = NOT_ORDERS[case]
    workflow_id = f"cli-start-{uuid.uuid4().hex[:8]}"
    mark, entries_before = order_worker.mark(), len(order_worker.ledger.entries())
    started = temporal(
        dev_server,
        "workflow",
        "start",
        "--type",
        "OrderWorkflow",
        "--task-queue",
        order_worker.task_queue,
        "--workflow-id",
        workflow_id,
        "--input",
        json.dumps(make_input(workflow_id)),
    )
    assert started.returncode == 0, started.stderr
    await assert_refused(
        dev_client.get_workflow_handle(workflow_id), says, order_worker, mark, entries_before
    )


async def test_cli_start_without_input_fails_the_workflow_at_once(
    dev_server: RunningServer, dev_client: Client, order_worker: OrderWorker
) -> None:
    workflow_id = f"cli-start-{uuid.uuid4().hex[:8]}"
    mark, entries_before = order_worker.mark(), len(order_worker.ledger.entries())
    started = temporal(
        dev_server,
        "workflow",
        "start",
        "--type",
        "OrderWorkflow",
        "--task-queue",
        order_worker.task_queue,
        "--workflow-id",
        workflow_id,
    )
    assert started.returncode == 0, started.stderr
    await assert_refused(
        dev_client.get_workflow_handle(workflow_id),
        "no order was sent",
        order_worker,
        mark,
        entries_before,
    )


async def test_cli_start_with_a_valid_order_runs_it(
    dev_server: RunningServer, dev_client: Client, order_worker: OrderWorker
) -> None:
    order_id = f"CLI-{uuid.uuid4().hex[:8]}"
    started = temporal(
        dev_server,
        "workflow",
        "start",
        "--type",
        "OrderWorkflow",
        "--task-queue",
        order_worker.task_queue,
        "--workflow-id",
        order_id,
        "--input",
        json.dumps(order_json(order_id)),
    )
    assert started.returncode == 0, started.stderr
    result = await asyncio.wait_for(dev_client.get_workflow_handle(order_id).result(), WAIT_SECONDS)
    assert result["status"] == OrderStatus.COMPLETED
    assert [e["kind"] for e in order_worker.ledger.entries(order_id)] == [
        "reserve",
        "charge",
        "ship",
    ]


# -- signals and updates that are no decision ------------------------------------------------


async def waiting_order(client: Client, worker: OrderWorker) -> WorkflowHandle:
    handle = await place_order(
        client, make_order(1500, f"BAD-{uuid.uuid4().hex[:8]}"), worker.task_queue
    )
    await eventually(
        lambda: handle.query(OrderWorkflow.get_status),
        lambda status: status == OrderStatus.AWAITING_APPROVAL,
        "the order",
    )
    return handle


async def assert_ignored(
    handle: WorkflowHandle, sentence: str, worker: OrderWorker, mark: int
) -> None:
    """The order heard the signal, ignored it, keeps waiting, and the worker said so once."""
    progress = await eventually(
        lambda: handle.query(OrderWorkflow.get_progress),
        lambda progress: sentence in progress.ignored_messages,
        f"get_progress listing {sentence!r}",
    )
    assert progress.status == OrderStatus.AWAITING_APPROVAL
    assert progress.approval_decision is None
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert worker.lines_since(mark, handle.id) == [f"OrderWorkflow {handle.id}: {sentence}"]


async def assert_completed_without_a_failed_task(
    handle: WorkflowHandle, worker: OrderWorker
) -> None:
    result = await asyncio.wait_for(handle.result(), WAIT_SECONDS)
    assert result.status == OrderStatus.COMPLETED
    order_id = handle.id.removeprefix("order-workflow-")
    assert [e["kind"] for e in worker.ledger.entries(order_id)] == ["reserve", "charge", "ship"]
    assert "WORKFLOW_TASK_FAILED" not in await event_types(handle)


# (the CLI's --input arguments, how the ignored message shows the value)
BAD_DECISIONS = [
    ((), "approve_order()"),
    (("--input", '"yes"'), 'approve_order("yes")'),
    (("--input", "1"), "approve_order(1)"),
    (("--input", "null"), "approve_order(null)"),
    (("--input", '{"approved": true}'), 'approve_order({"approved": true})'),
    # Two values, one of them a decision: still no decision (another language's client may
    # send `signal('approve_order', true, 'ok')`).
    (("--input", "true", "--input", '"ok"'), 'approve_order(true, "ok")'),
]


async def test_cli_signals_that_are_no_decision_are_ignored_then_true_completes(
    dev_server: RunningServer, dev_client: Client, order_worker: OrderWorker
) -> None:
    handle = await waiting_order(dev_client, order_worker)
    for input_args, shown in BAD_DECISIONS:
        mark = order_worker.mark()
        sent = temporal(
            dev_server,
            "workflow",
            "signal",
            "--workflow-id",
            handle.id,
            "--name",
            "approve_order",
            *input_args,
        )
        assert sent.returncode == 0, sent.stderr
        await assert_ignored(
            handle, f"{shown} ignored: approve_order takes true or false", order_worker, mark
        )
    assert order_worker.ledger.entries(handle.id.removeprefix("order-workflow-")) == []
    sent = temporal(
        dev_server,
        "workflow",
        "signal",
        "--workflow-id",
        handle.id,
        "--name",
        "approve_order",
        "--input",
        "true",
    )
    assert sent.returncode == 0, sent.stderr
    await assert_completed_without_a_failed_task(handle, order_worker)


@pytest.mark.parametrize(
    ("input_args", "shown"),
    [
        ((), "decide()"),
        (("--input", '{"approved": true}'), 'decide({"approved": true})'),
        (("--input", "true", "--input", '"ok"'), 'decide(true, "ok")'),
    ],
)
async def test_cli_update_that_is_no_decision_is_refused_by_its_validator(
    input_args: tuple[str, ...],
    shown: str,
    dev_server: RunningServer,
    dev_client: Client,
    order_worker: OrderWorker,
) -> None:
    handle = await waiting_order(dev_client, order_worker)
    mark = order_worker.mark()
    refused = temporal(
        dev_server,
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        handle.id,
        "--name",
        "decide",
        *input_args,
    )
    assert refused.returncode != 0
    assert f"{shown} refused: decide takes true or false" in refused.stderr
    assert await handle.query(OrderWorkflow.get_status) == OrderStatus.AWAITING_APPROVAL
    assert order_worker.lines_since(mark, handle.id) == []  # the caller got the answer
    decided = temporal(
        dev_server,
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        handle.id,
        "--name",
        "decide",
        "--input",
        "true",
    )
    assert decided.returncode == 0 and "approved" in decided.stdout, decided.stderr
    await assert_completed_without_a_failed_task(handle, order_worker)


# -- an untyped Python client ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([None], "(got null)"),  # the SDK sends None as a binary/null payload, not JSON
        ([], "no order was sent"),
        (["not an order"], '(got "not an order")'),
        ([{"order_id": "UNTYPED", "items": "none"}], "items must be a list of items"),
    ],
)
async def test_untyped_start_input_that_is_no_order_fails_the_workflow_at_once(
    args: list[Any], says: str, dev_client: Client, order_worker: OrderWorker
) -> None:
    mark, entries_before = order_worker.mark(), len(order_worker.ledger.entries())
    handle = await dev_client.start_workflow(
        "OrderWorkflow",
        args=args,
        id=f"untyped-{uuid.uuid4().hex[:8]}",
        task_queue=order_worker.task_queue,
    )
    await assert_refused(handle, says, order_worker, mark, entries_before)


async def test_untyped_signals_are_ignored_and_the_typed_signal_completes(
    dev_client: Client, order_worker: OrderWorker
) -> None:
    handle = await waiting_order(dev_client, order_worker)
    untyped = dev_client.get_workflow_handle(handle.id)
    for args, shown in [
        ([], "approve_order()"),
        (["yes"], 'approve_order("yes")'),
        ([None], "approve_order(null)"),
        ([0], "approve_order(0)"),
        ([True, "ok"], 'approve_order(true, "ok")'),
        ([False, False], "approve_order(false, false)"),
    ]:
        mark = order_worker.mark()
        await untyped.signal("approve_order", args=args)
        await assert_ignored(
            handle, f"{shown} ignored: approve_order takes true or false", order_worker, mark
        )
    await handle.signal(OrderWorkflow.approve_order, True)
    await assert_completed_without_a_failed_task(handle, order_worker)


async def test_untyped_update_is_refused_and_the_typed_update_completes(
    dev_client: Client, order_worker: OrderWorker
) -> None:
    handle = await waiting_order(dev_client, order_worker)
    for args in ([], ["yes"], [True, "ok"]):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await dev_client.get_workflow_handle(handle.id).execute_update("decide", args=args)
        assert "decide takes true or false" in str(refused.value.cause)
    assert await handle.execute_update(OrderWorkflow.decide, True) == "approved"
    await assert_completed_without_a_failed_task(handle, order_worker)


# -- any JSON at all -------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)
DELETE = object()
ORDER_FIELDS = [
    "order_id",
    "customer_id",
    "items",
    "total_amount",
    "approval_timeout_seconds",
    "fail_at",
    "transient_failures",
    "mock_delay_seconds",
]


def _changed(changes: dict[str, Any]) -> dict[str, Any]:
    order = order_json("FUZZ")
    order.update({key: value for key, value in changes.items() if value is not DELETE})
    return {key: value for key, value in order.items() if changes.get(key) is not DELETE}


# Pure JSON, and valid orders with some fields removed or replaced by any JSON.
START_INPUT = JSON | st.dictionaries(
    st.sampled_from(ORDER_FIELDS), JSON | st.just(DELETE), min_size=1, max_size=3
).map(_changed)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=START_INPUT)
async def test_no_start_input_leaves_an_order_with_a_failed_workflow_task(
    value: Any, dev_client: Client, order_worker: OrderWorker
) -> None:
    mark = order_worker.mark()
    handle = await dev_client.start_workflow(
        "OrderWorkflow",
        value,
        id=f"fuzz-{uuid.uuid4().hex[:8]}",
        task_queue=order_worker.task_queue,
    )
    events = await eventually(
        lambda: event_types(handle),
        lambda events: "WORKFLOW_TASK_COMPLETED" in events,
        "the first workflow task",
    )
    assert "WORKFLOW_TASK_FAILED" not in events
    if "WORKFLOW_EXECUTION_FAILED" in events:
        assert "ACTIVITY_TASK_SCHEDULED" not in events
        run_id = (await handle.describe()).run_id
        assert [e for e in order_worker.ledger.entries() if e["run_id"] == run_id] == []
    else:  # it was an order after all: it runs, waits for approval, or has completed already
        try:
            await handle.terminate("fuzzing done")
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:  # "workflow execution already completed"
                raise
    assert len(order_worker.lines_since(mark, handle.id)) <= 1


@pytest.fixture(scope="module")
async def fuzzed_order(
    dev_client: Client, order_worker: OrderWorker
) -> AsyncIterator[WorkflowHandle]:
    handle = await waiting_order(dev_client, order_worker)
    yield handle
    await handle.terminate("fuzzing done")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON.filter(lambda value: not isinstance(value, bool)))
async def test_no_signal_value_leaves_an_order_with_a_failed_workflow_task(
    value: Any, fuzzed_order: WorkflowHandle, order_worker: OrderWorker
) -> None:
    mark = order_worker.mark()
    heard = len((await fuzzed_order.query(OrderWorkflow.get_progress)).ignored_messages)
    await fuzzed_order.signal("approve_order", value)
    progress = await eventually(
        lambda: fuzzed_order.query(OrderWorkflow.get_progress),
        lambda progress: len(progress.ignored_messages) > heard,
        "the signal to be heard",
    )
    assert progress.status == OrderStatus.AWAITING_APPROVAL
    assert progress.ignored_messages[-1].endswith("ignored: approve_order takes true or false")
    assert "WORKFLOW_TASK_FAILED" not in await event_types(fuzzed_order)
    assert len(order_worker.lines_since(mark, fuzzed_order.id)) <= 1
