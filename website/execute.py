"""Every notebook executed top to bottom with nbclient, as CI runs them, each against a dev
server of its own that its first cells start (they do when nothing answers).

A server each, as a learner has one: notebooks on one server would share its task queue, so
one kernel's worker could take another's workflow task, and if that kernel ended at its
notebook's end before its worker had stopped (it has 3 s), the order would wait out the
workflow task timeout (10 s) while the other notebook's cell waited on it. A few notebooks
run side by side, each in its own kernel; 05 runs last, because it replays the histories 04,
06 and 07 save into `saved_histories/`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from order_management.local import devserver

LAST = "05_testing_workflows"
KERNELS_SIDE_BY_SIDE = 3  # 04 waits on outages most of its run; the machine has 2 cores

CELL_TIMEOUT_SECONDS = 180  # generous under load; the notebooks bound their own waits
# Settings of the builder's shell that would point the kernels somewhere else.
FOREIGN_SETTINGS = (
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_PROFILE",
    "TEMPORAL_UI_URL",
    "ORDER_TASK_QUEUE",
)


@dataclass(frozen=True)
class Server:
    """A dev server's port, started by the notebook that connects to it."""

    port: int


@dataclass
class Execution:
    """Where the notebooks run: the working copy of `notebooks/`, the state folder, each
    notebook's server; and what each notebook took."""

    notebook_dir: Path
    state_dir: Path
    servers: dict[str, Server]
    seconds: dict[str, float] = field(default_factory=dict)

    def env(self, server: Server) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
        env.update(
            TEMPORAL_ADDRESS=f"localhost:{server.port}",
            ORDER_STATE_DIR=str(self.state_dir),
            ORDER_LEDGER_DB=str(self.state_dir / "ledger.db"),
            # The `temporal` CLI the cells call, beside this Python.
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        )
        return env


def execute_all(names: list[str], execution: Execution) -> dict[str, Any]:
    """Each notebook of `names` (in `execution.notebook_dir`), executed; the dev servers the
    notebooks started are stopped at the end, whatever happened."""
    # devserver finds a server's pid file in the state folder, as the kernels did.
    os.environ["ORDER_STATE_DIR"] = str(execution.state_dir)
    try:
        return asyncio.run(_schedule(names, execution))
    finally:
        for server in execution.servers.values():
            devserver.stop(server.port)


async def _schedule(names: list[str], execution: Execution) -> dict[str, Any]:
    executed: dict[str, Any] = {}
    side_by_side = asyncio.Semaphore(KERNELS_SIDE_BY_SIDE)

    async def run(name: str) -> None:
        async with side_by_side:
            executed[name] = await _execute(name, execution.servers[name], execution)

    await asyncio.gather(*(run(name) for name in names if name != LAST))
    await run(LAST)
    return {name: executed[name] for name in names}


async def _execute(name: str, server: Server, execution: Execution) -> Any:
    path = execution.notebook_dir / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(execution.notebook_dir)}},
    )
    started = time.monotonic()
    print(f"  {name}: running", flush=True)
    await client.async_execute(env=execution.env(server))
    execution.seconds[name] = time.monotonic() - started
    print(f"  {name}: done in {execution.seconds[name]:.0f} s", flush=True)
    return nb
