"""The durability notebook's outages, on real servers: what a waiting order looks like from
the server, and restarting the dev server (only one this workshop started) under a client
that carries on.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from order_management.local import devserver
from order_management.notebook import outages
from order_management.notebook.kernel_worker import kernel_worker
from order_management.notebook.outages import (
    client_reaches_server,
    kill_during,
    pending_activities,
    restart_dev_server,
    wait_for_activity,
)
from order_management.notebook.worker_process import (
    WorkerProcess,
    WorkerProcessError,
    running_worker_process,
    stop_worker_process,
)
from order_management.orders import OrderError, await_result, place_order, send_approval
from order_management.shared import OrderStatus, make_order
from tests.helpers.servers import free_port, running_worker

# Independent tests, each waiting out real restarts and kills: xdist may run them on
# different workers.


async def test_a_worker_stopped_mid_activity_leaves_the_retry_waiting_for_the_next(
    dev_client: Client, ledger: object, task_queue: str, order_id: str
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(
            dev_client, make_order(300, order_id, mock_delay_seconds=2), task_queue
        )
        running = await wait_for_activity(handle, "reserve_inventory", timeout=10)
    # The worker has shut down: its activity was cancelled and reported as failed.

    (waiting,) = await pending_activities(handle)

    assert (running.state, running.attempt) == ("started", 1)
    assert (waiting.activity, waiting.state, waiting.attempt) == (
        "reserve_inventory",
        "scheduled",
        2,
    )
    assert waiting.worker == running.worker
    assert "shutting down" in (waiting.last_failure or "")
    await handle.terminate("test over")


async def test_waiting_for_an_activity_that_never_starts_times_out_with_a_reason(
    dev_client: Client, task_queue: str, order_id: str
) -> None:
    handle = await place_order(dev_client, make_order(300, order_id), task_queue)
    with pytest.raises(TimeoutError) as waited:
        await wait_for_activity(handle, "process_payment", timeout=0.5)
    # What the server shows, so a learner (or a failing test) sees where the order is.
    assert re.fullmatch(
        rf"process_payment was not started in {handle.id} within 0.5 s \(no activity pending; "
        r"its workflow task (scheduled|started), attempt 1\); is a worker running, .*",
        str(waited.value),
    )
    await handle.terminate("test over")


async def test_restart_leaves_a_server_it_did_not_start_alone(
    time_skipping: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", time_skipping.client.service_client.config.target_host)

    assert await restart_dev_server(time_skipping.client) is False
    assert "was not started by this workshop" in capsys.readouterr().out
    assert await client_reaches_server(time_skipping.client)


@pytest.fixture
def own_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A dev server of this test's own, since the test restarts it."""
    port = free_port()
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"localhost:{port}")
    devserver.start(port, die_with_parent=True)
    try:
        yield port
    finally:
        devserver.stop(port)


async def test_an_order_awaiting_approval_survives_a_restart_and_the_worker_resumes(
    own_server: int, ledger: object, order_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    await kernel_worker.start(client)
    try:
        handle = await place_order(client, make_order(1500, order_id))
        before = devserver.running(own_server)

        assert await restart_dev_server(client) is True

        after = devserver.running(own_server)
        assert before and after and after.pid != before.pid
        assert kernel_worker.running
        await send_approval(handle, True)
        result = await await_result(handle, timeout=30)
    finally:
        await kernel_worker.stop()
    assert result.status == OrderStatus.COMPLETED
    printed = capsys.readouterr().out
    assert "no answer" in printed and "reconnected by itself" in printed


def test_a_worker_process_that_cannot_start_says_why(
    dev_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "no-such-namespace")

    with pytest.raises(WorkerProcessError, match="exited at start: .*no-such-namespace"):
        WorkerProcess.start(timeout=30)


async def test_one_worker_process_per_program_and_a_kill_only_where_the_activity_runs(
    dev_client: Client, ledger: object, task_queue: str, order_id: str
) -> None:
    # The notebook's cells, run twice: the same process, never a second one.
    process = running_worker_process(task_queue)
    try:
        assert running_worker_process(task_queue) is process
        # Each step runs for 5 s: the kill must see reserve_inventory running. With 1 s, a busy
        # machine's polls of the pending activities missed the whole run (seen with 6 workers).
        handle = await place_order(
            dev_client, make_order(300, order_id, mock_delay_seconds=5), task_queue
        )
        async with running_worker(dev_client, task_queue):
            # Two workers poll now: the kill refuses unless the activity runs in the process.
            try:
                # 60 s: a workflow task lost under load comes back after its 10 s timeout.
                running = await kill_during(process, handle, "reserve_inventory", timeout=60)
            except OrderError as err:
                assert "not in the worker process" in str(err) and process.alive
            else:
                assert running.worker == process.identity and not process.alive
        process.kill()
        with pytest.raises(OrderError, match="is not running any more"):
            await kill_during(process, handle, "process_payment")
        replacement = running_worker_process(task_queue)  # after a kill: a new one
        assert replacement is not process and replacement.alive
        stop_worker_process()
        assert not replacement.alive
        await handle.terminate("test over")
    finally:
        stop_worker_process()


def test_a_worker_process_stops_when_the_program_that_started_it_is_killed(
    dev_server: object,
) -> None:
    # A kernel killed outright (no atexit) must not leave its worker polling for orders.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from order_management.notebook.worker_process import WorkerProcess\n"
            "print(WorkerProcess.start().pid, flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    worker_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    try:
        deadline = time.monotonic() + 15
        while _alive(worker_pid):
            assert time.monotonic() < deadline, "the orphaned worker process kept running"
            time.sleep(0.2)
    finally:
        if _alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone: it no longer runs (its new parent reaps it).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


async def test_a_restart_interrupted_half_way_leaves_the_server_and_worker_running(
    own_server: int, ledger: object, order_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    await kernel_worker.start(client)

    async def interrupted(*_: object) -> bool:  # the learner presses Stop while it is down
        raise KeyboardInterrupt

    try:
        with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
            patched.setattr(outages, "client_reaches_server", interrupted)
            await restart_dev_server(client)

        assert devserver.running(own_server) is not None and kernel_worker.running
        handle = await place_order(client, make_order(20, order_id))
        assert (await await_result(handle, 20)).status == OrderStatus.COMPLETED
    finally:
        await kernel_worker.stop()
