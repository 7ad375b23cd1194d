"""Every notebook executed top to bottom with nbclient, as CI runs them, against dev servers
that the notebooks start themselves (their first cells do when nothing answers).

Notebooks that share a server run side by side in their own kernels: their workflow ids are
fresh (`new_order_id`) and every in-kernel worker registers the same code, so one kernel's
worker may run another's order without changing what either shows. 04 is the exception: it
stops its worker to show an order that waits, kills worker processes and restarts its server,
so it gets a server of its own. 05 runs last, because it replays the histories 04, 06 and 07
save into `saved_histories/`; 00 runs first, because it is the one that starts the shared server.
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

FIRST = "00_setup"
ON_ITS_OWN_SERVER = "04_durability"
LAST = "05_testing_workflows"
KERNELS_SIDE_BY_SIDE = 2  # besides 04's; the machine this is written for has 2 cores

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
    """A dev server's port, started by the first notebook that connects to it."""

    port: int


@dataclass
class Execution:
    """Where the notebooks run: the working copy of `notebooks/`, the state folder, the
    servers; and what each notebook took."""

    notebook_dir: Path
    state_dir: Path
    shared: Server
    own: Server
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def servers(self) -> tuple[Server, Server]:
        return (self.shared, self.own)

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
        for server in execution.servers:
            devserver.stop(server.port)


async def _schedule(names: list[str], execution: Execution) -> dict[str, Any]:
    executed: dict[str, Any] = {}

    async def run(name: str, server: Server) -> None:
        executed[name] = await _execute(name, server, execution)

    async def shared_ones() -> None:
        await run(FIRST, execution.shared)
        side_by_side = asyncio.Semaphore(KERNELS_SIDE_BY_SIDE)

        async def one(name: str) -> None:
            async with side_by_side:
                await run(name, execution.shared)

        rest = [n for n in names if n not in (FIRST, ON_ITS_OWN_SERVER, LAST)]
        await asyncio.gather(*(one(name) for name in rest))

    await asyncio.gather(shared_ones(), run(ON_ITS_OWN_SERVER, execution.own))
    await run(LAST, execution.shared)
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
