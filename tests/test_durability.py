"""Durability under faults, on the real dev server: the things that go wrong on real machines.

- A worker process killed with SIGKILL in the middle of an activity: another worker finishes
  the order, and the ledger shows each effect exactly once.
- The server itself stopped and restarted on the same database while one order waits for
  approval and another is in the middle of its steps: both finish correctly afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import Client, WorkflowHandle

from order_management.ledger import Ledger
from order_management.local import devserver
from order_management.notebook.worker_process import WorkerProcess
from order_management.orders import await_result, place_order, send_approval
from order_management.shared import OrderStatus, make_order
from order_management.workflow import STEP_TIMEOUT, OrderWorkflow
from tests.helpers.servers import RunningServer, free_port, running_worker

# Independent tests, each waiting out real restarts and kills: xdist may run them on
# different workers.

WAIT_SECONDS = 30.0


async def _until(check, what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll the async `check` until it is true; fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.05)


async def _running_activity(handle: WorkflowHandle) -> str | None:
    """The activity a worker is executing right now (started, not finished), if any."""
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        if pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED:
            return pending.activity_type.name
    return None


def _kinds(ledger: Ledger, order_id: str) -> list[str]:
    return [entry["kind"] for entry in ledger.entries(order_id)]


# -- a worker killed mid-activity -------------------------------------------------------------


@pytest.fixture
def worker_processes() -> Iterator[list[WorkerProcess]]:
    """Worker processes a test starts; whatever is still alive at the end is stopped."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


async def test_worker_killed_mid_activity_another_finishes_and_nothing_happens_twice(
    dev_client: Client,
    ledger: Ledger,
    task_queue: str,
    order_id: str,
    worker_processes: list[WorkerProcess],
) -> None:
    first = WorkerProcess.start(task_queue)
    worker_processes.append(first)
    # Every mock service takes a second: long enough to kill the worker inside the payment.
    order = make_order(400, order_id, mock_delay_seconds=1.0)
    handle = await place_order(dev_client, order, task_queue)
    await _until(lambda: _is_running(handle, "process_payment"), "process_payment starting")

    first.kill()
    assert not first.alive
    assert _kinds(ledger, order_id) == ["reserve"]  # the payment had not happened yet

    second = WorkerProcess.start(task_queue)
    worker_processes.append(second)
    # Temporal retries the payment once its start-to-close timeout passes (the dead worker
    # cannot report anything), so the order needs at most that long to finish.
    result = await await_result(handle, timeout=STEP_TIMEOUT.total_seconds() + 30)
    history = await handle.fetch_history()

    assert result.status == OrderStatus.COMPLETED
    assert _kinds(ledger, order_id) == ["reserve", "charge", "ship"]
    starts = [
        (
            event.activity_task_started_event_attributes.attempt,
            event.activity_task_started_event_attributes.identity,
        )
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    # reserve on the first worker; the payment's second attempt and the delivery on the second.
    assert starts == [(1, first.identity), (2, second.identity), (1, second.identity)]


async def _is_running(handle: WorkflowHandle, activity: str) -> bool:
    return await _running_activity(handle) == activity


# -- the server restarted ---------------------------------------------------------------------


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """A dev server of this test's own (it gets stopped), never the session's."""
    monkeypatch.setenv("ORDER_STATE_DIR", str(tmp_path))
    port = free_port()
    devserver.start(port, die_with_parent=True)
    try:
        yield RunningServer(address=f"localhost:{port}", port=port, state_dir=tmp_path)
    finally:
        devserver.stop(port)


@pytest.fixture
async def own_client(own_server: RunningServer) -> AsyncIterator[Client]:
    yield await Client.connect(own_server.address)


async def test_server_restart_keeps_a_waiting_order_and_one_mid_saga(
    own_server: RunningServer,
    own_client: Client,
    ledger: Ledger,
    task_queue: str,
    order_id: str,
) -> None:
    waiting = make_order(1500, f"{order_id}-WAIT", approval_timeout_seconds=300)
    mid_saga = make_order(300, f"{order_id}-SAGA", fail_at="delivery", mock_delay_seconds=1.0)
    database = Path(devserver.running(own_server.port).database)

    async with running_worker(own_client, task_queue):
        waiting_handle = await place_order(own_client, waiting, task_queue)
        saga_handle = await place_order(own_client, mid_saga, task_queue)
        await _until(
            lambda: _status_is(waiting_handle, OrderStatus.AWAITING_APPROVAL),
            "the big order waiting for approval",
        )
        await _until(
            lambda: _is_running(saga_handle, "process_payment"),
            "the failing order reaching its payment",
        )

        stopped = devserver.stop(own_server.port)
        assert stopped is not None and not devserver.port_answers(own_server.port)
        await asyncio.sleep(1.0)  # the payment's mock service answers while no server runs
        restarted = devserver.start(own_server.port, die_with_parent=True)
        assert Path(restarted.database) == database and restarted.pid != stopped.pid

        # The worker and the client reconnect by themselves; the orders carry on.
        assert await _eventually(lambda: waiting_handle.query(OrderWorkflow.get_status)) == (
            OrderStatus.AWAITING_APPROVAL
        )
        await send_approval(waiting_handle, True)
        waiting_result = await await_result(
            waiting_handle, timeout=STEP_TIMEOUT.total_seconds() + 30
        )
        saga_result = await await_result(saga_handle, timeout=STEP_TIMEOUT.total_seconds() + 30)

    assert waiting_result.status == OrderStatus.COMPLETED
    assert _kinds(ledger, waiting.order_id) == ["reserve", "charge", "ship"]
    assert saga_result.status == OrderStatus.COMPENSATED
    assert saga_result.compensations == ["refund_payment", "release_inventory"]
    assert _kinds(ledger, mid_saga.order_id) == ["reserve", "charge", "refund", "release"]


async def _status_is(handle: WorkflowHandle, status: str) -> bool:
    return await handle.query(OrderWorkflow.get_status) == status


async def _eventually(call, timeout: float = WAIT_SECONDS):
    """The result of `call()` once the restarted server answers it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except Exception:  # the server or the worker is still coming back
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
