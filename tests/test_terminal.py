"""The seed's terminal walk-through, run as a new user would: real processes, real server.

The worker, starter and test_approval scripts run from inside order_management/ with
`python`, exactly as the seed documents them, and their output is checked line by line.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from order_management.local import devserver
from tests.helpers.servers import REPO, RunningServer, free_port

PACKAGE_DIR = REPO / "order_management"
PYTHON = sys.executable
SEED_ADDRESS = "localhost:7233"

# Each test runs its own processes: xdist may hand them to different workers (each worker
# its own dev server, so the seed's fixed workflow ids never meet).


def run(
    args: list[str],
    env: dict[str, str] | None = None,
    cwd: Path = PACKAGE_DIR,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=env or dict(os.environ),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def seed_worker(dev_server: RunningServer) -> Iterator[subprocess.Popen[str]]:
    """`python worker.py` from inside order_management/, on the seed's task queue."""
    worker = subprocess.Popen(
        [PYTHON, "worker.py"],
        cwd=PACKAGE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        first_line = worker.stdout.readline().strip()
        assert first_line == ("Worker ready and polling task queue: order-management-task-queue")
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            rest = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            raise
    assert worker.returncode == 0
    assert "Worker stopped." in rest


def test_starter_500_prints_the_seed_lines(seed_worker: subprocess.Popen[str]) -> None:
    done = run([PYTHON, "starter.py", "500"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Result: Order processed successfully"
    assert lines[1] == "Status: completed"
    assert re.fullmatch(r"Transaction ID: TXN-[A-Z0-9]{8}", lines[2])
    assert re.fullmatch(r"Reservation ID: RES-[A-Z0-9]{8}", lines[3])
    assert re.fullmatch(r"Tracking Number: TRACK-[A-Z0-9]{12}", lines[4])
    assert len(lines) == 5


def test_test_approval_prints_the_seed_lines(seed_worker: subprocess.Popen[str]) -> None:
    done = run([PYTHON, "test_approval.py"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Workflow requires approval: True",
        "Sending approval signal...",
        "Approval signal sent!",
        "Result: Order processed successfully",
    ]
    shown = run(
        [
            str(devserver.temporal_binary()),
            "workflow",
            "show",
            "--workflow-id",
            "order-workflow-ORDER-1500",
            "--address",
            os.environ["TEMPORAL_ADDRESS"],
        ]
    )
    assert shown.returncode == 0, shown.stderr
    assert "WorkflowExecutionSignaled" in shown.stdout
    assert "WorkflowExecutionCompleted" in shown.stdout


def _seed_snippet(body: str, address: str) -> str:
    """A snippet of the seed README, verbatim but for the address (tests use a free port)."""
    return textwrap.dedent(body).replace(SEED_ADDRESS, address)


SNIPPET_START = """
    import asyncio
    from temporalio.client import Client
    from workflow import OrderWorkflow
    from shared import Order, OrderItem

    async def main():
        client = await Client.connect("localhost:7233")

        order = Order(
            order_id="ORDER-2000",
            customer_id="CUST-99999",
            items=[
                OrderItem(product_id="PROD-001", quantity=2, price=1000.0)
            ],
            total_amount=2000.0,
        )

        handle = await client.start_workflow(
            OrderWorkflow.run,
            order,
            id="order-workflow-ORDER-2000",
            task_queue="order-management-task-queue",
        )
        print(f"Started workflow: {handle.id}")

    asyncio.run(main())
"""

SNIPPET_QUERY = """
    import asyncio
    from temporalio.client import Client
    from workflow import OrderWorkflow

    async def main():
        client = await Client.connect("localhost:7233")
        handle = client.get_workflow_handle("order-workflow-ORDER-2000")
        requires_approval = await handle.query(OrderWorkflow.requires_approval)
        print(f"Requires approval: {requires_approval}")

    asyncio.run(main())
"""

SNIPPET_APPROVE = """
    import asyncio
    from temporalio.client import Client
    from workflow import OrderWorkflow

    async def main():
        client = await Client.connect("localhost:7233")
        handle = client.get_workflow_handle("order-workflow-ORDER-2000")
        await handle.signal(OrderWorkflow.approve_order, True)
        print("Approval sent!")

        # Wait for result
        result = await handle.result()
        print(f"Result: {result}")

    asyncio.run(main())
"""

SNIPPET_REJECT = """
    import asyncio
    from temporalio.client import Client
    from workflow import OrderWorkflow

    async def main():
        client = await Client.connect("localhost:7233")
        handle = client.get_workflow_handle("order-workflow-ORDER-2000")
        await handle.signal(OrderWorkflow.approve_order, False)
        print("Order rejected!")

    asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("decision", "printed", "outcome"),
    [
        (SNIPPET_APPROVE, "Approval sent!", "'status': 'completed'"),
        (SNIPPET_REJECT, "Order rejected!", "rejected"),
    ],
)
def test_seed_snippets_run_verbatim(
    seed_worker: subprocess.Popen[str],
    dev_server: RunningServer,
    decision: str,
    printed: str,
    outcome: str,
) -> None:
    started = run([PYTHON, "-"], stdin=_seed_snippet(SNIPPET_START, dev_server.address))
    assert started.stdout.strip() == "Started workflow: order-workflow-ORDER-2000", started.stderr
    queried = run([PYTHON, "-"], stdin=_seed_snippet(SNIPPET_QUERY, dev_server.address))
    assert queried.stdout.strip() == "Requires approval: True", queried.stderr
    decided = run([PYTHON, "-"], stdin=_seed_snippet(decision, dev_server.address))
    assert decided.stdout.splitlines()[0] == printed, decided.stderr
    status = run(
        [PYTHON, "-"],
        stdin=_seed_snippet(
            """
        import asyncio
        from temporalio.client import Client
        from workflow import OrderWorkflow

        async def main():
            client = await Client.connect("localhost:7233")
            handle = client.get_workflow_handle("order-workflow-ORDER-2000")
            result = await handle.result()
            print(result)
            print(await handle.query(OrderWorkflow.get_status))

        asyncio.run(main())
    """,
            dev_server.address,
        ),
    )
    assert outcome in status.stdout, status.stderr


def test_modules_run_from_anywhere(seed_worker: subprocess.Popen[str], tmp_path: Path) -> None:
    done = run(
        [PYTHON, "-m", "order_management.starter", "42", "--order-id", "ANYWHERE-1"], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Result: Order processed successfully")


def test_starter_options_fail_compensate_and_no_wait(seed_worker: subprocess.Popen[str]) -> None:
    failed = run([PYTHON, "starter.py", "300", "--order-id", "FAIL-1", "--fail-at", "delivery"])
    assert failed.returncode == 0, failed.stderr
    assert "Status: compensated" in failed.stdout
    assert "Compensations: refund_payment, release_inventory" in failed.stdout
    flaky = run(
        [
            PYTHON,
            "starter.py",
            "300",
            "--order-id",
            "FLAKY-1",
            "--fail-at",
            "payment",
            "--transient",
            "1",
            "--delay",
            "0.01",
        ]
    )
    assert "Status: completed" in flaky.stdout, flaky.stderr
    started = run(
        [
            PYTHON,
            "starter.py",
            "1500",
            "--order-id",
            "NOWAIT-1",
            "--no-wait",
            "--approval-timeout",
            "1",
        ]
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines()[0] == "Started workflow: order-workflow-NOWAIT-1"
    assert re.search(
        r"Web UI: http://localhost:\d+/namespaces/default/workflows/"
        r"order-workflow-NOWAIT-1",
        started.stdout,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["abc"],
        ["-5"],
        ["0"],
        ["1e999"],
        ["nan"],
        [],
        ["500", "--fail-at", "shipping"],
        ["500", "--transient", "x"],
        ["500", "--delay", "-1"],
        ["500", "--delay", "3600"],
    ],
)
def test_bad_input_exits_2_with_one_line_and_starts_nothing(
    seed_worker: subprocess.Popen[str], args: list[str]
) -> None:
    ledger_path = Path(os.environ["ORDER_LEDGER_DB"])
    before = ledger_path.read_bytes() if ledger_path.exists() else b""
    listed_before = _workflow_count()
    done = run([PYTHON, "starter.py", *args])
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert _workflow_count() == listed_before
    assert (ledger_path.read_bytes() if ledger_path.exists() else b"") == before


def _workflow_count() -> int:
    listed = run(
        [
            str(devserver.temporal_binary()),
            "workflow",
            "count",
            "--address",
            os.environ["TEMPORAL_ADDRESS"],
            "-o",
            "json",
        ]
    )
    # Proto3 JSON leaves out a field at its default: a server with no
    # workflows answers `{}`, not `{"count": "0"}` (seen in CI, where this
    # test ran first on its server).
    return int(json.loads(listed.stdout).get("count", 0))


def test_no_server_exits_1_naming_the_address_and_the_fix() -> None:
    address = f"localhost:{free_port()}"
    env = {**os.environ, "TEMPORAL_ADDRESS": address}
    done = run([PYTHON, "starter.py", "500"], env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"No Temporal server at {address}. Start one with `make server` "
        "(or python -m order_management.local.devserver start)."
    ]


def test_environment_configuration_alone_moves_everything_to_another_server(
    tmp_path: Path,
) -> None:
    """A non-default port and namespace, set only through TEMPORAL_* variables: the worker
    starts the dev server itself (it is local and nothing answers), the starter uses it."""
    port = free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "TEMPORAL_NAMESPACE": "workshop",
        "ORDER_STATE_DIR": str(tmp_path),
        "ORDER_LEDGER_DB": str(tmp_path / "ledger.db"),
        "ORDER_TASK_QUEUE": "elsewhere",
    }
    worker = subprocess.Popen(
        [PYTHON, "-m", "order_management.worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        lines = [worker.stdout.readline().strip(), worker.stdout.readline().strip()]
        assert lines[0].startswith(f"Started a local Temporal dev server at localhost:{port}")
        assert lines[1] == "Worker ready and polling task queue: elsewhere"
        done = run([PYTHON, "-m", "order_management.starter", "250"], env=env)
        assert done.returncode == 0, done.stderr
        assert "Status: completed" in done.stdout
        listed = run(
            [
                str(devserver.temporal_binary()),
                "workflow",
                "list",
                "--address",
                f"127.0.0.1:{port}",
                "--namespace",
                "workshop",
            ]
        )
        assert "order-workflow-ORDER-250" in listed.stdout
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=20)
        stopped = run([PYTHON, "-m", "order_management.local.devserver", "stop"], env=env)
    assert "Stopped the dev server" in stopped.stdout


def test_devserver_cli_start_is_idempotent_status_reports_and_stop_ends_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {**os.environ, "TEMPORAL_ADDRESS": f"localhost:{port}", "ORDER_STATE_DIR": str(tmp_path)}
    cli = [PYTHON, "-m", "order_management.local.devserver"]
    try:
        first = run([*cli, "start"], env=env)
        assert first.returncode == 0 and first.stdout.startswith("Started:"), first.stderr
        again = run([*cli, "start"], env=env)
        assert again.stdout.startswith("Already running:")
        status = run([*cli, "status"], env=env)
        pid = int(re.search(r"\(pid (\d+)\)", status.stdout).group(1))  # type: ignore[union-attr]
        assert f"localhost:{port}" in status.stdout
        assert f"Web UI: http://localhost:{port + 1000}" in status.stdout
        assert (tmp_path / f"temporal-{port}.db").exists()
    finally:
        stopped = run([*cli, "stop"], env=env)
    assert stopped.stdout.strip() == f"Stopped the dev server (pid {pid})."
    assert not devserver.port_answers(port)
    assert run([*cli, "status"], env=env).returncode == 1


def test_devserver_refuses_a_port_held_by_another_program(tmp_path: Path) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": f"localhost:{port}",
            "ORDER_STATE_DIR": str(tmp_path),
        }
        done = run([PYTHON, "-m", "order_management.local.devserver", "start"], env=env)
    assert done.returncode == 1
    assert f"Port {port} is already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_ledger_cli_prints_tables_and_json(seed_worker: subprocess.Popen[str]) -> None:
    run([PYTHON, "starter.py", "77", "--order-id", "LEDGER-1"])
    table = run([PYTHON, "-m", "order_management.ledger"])
    assert "Stock on hand" in table.stdout and "LEDGER-1" in table.stdout
    entries = json.loads(
        run([PYTHON, "-m", "order_management.ledger", "--json", "--order-id", "LEDGER-1"]).stdout
    )
    assert [e["kind"] for e in entries] == ["reserve", "charge", "ship"]
    assert entries[1]["amount"] == 77.0
    assert all(e["order_id"] == "LEDGER-1" and e["recorded_at"] for e in entries)
