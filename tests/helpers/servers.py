"""Real servers for tests: free ports, the running dev server's address, an in-process worker."""

from __future__ import annotations

import os
import random
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from order_management.local import config
from order_management.worker import build_worker, polling

REPO = Path(__file__).resolve().parents[2]


BIN = Path(sys.executable).parent


# Below Linux's ephemeral range (32768-60999), so an outgoing connection's local port can
# never take a server's port between the check and the server's bind: blocks of 2000 ports,
# a server's gRPC port in the first half and its Web UI companion (+1000) in the second.
_FIRST_PORT, _BLOCK, _BLOCKS = 15000, 2 * config.UI_PORT_OFFSET, 8


def bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Every port this process has handed out. A port is often picked well before its server
# binds it (JupyterLab's and the Temporal port its extension starts a dev server on), so
# "bindable" alone gave one test the same port twice: JupyterLab found its port taken by the
# dev server it had just started.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free port whose Web UI companion (port + 1000) is free too, never one this process
    has handed out before; under pytest-xdist, from blocks of this worker's own, so two
    workers never pick the same port at the same moment."""
    while True:
        block = random.choice(_own_blocks())
        port = _FIRST_PORT + block * _BLOCK + random.randrange(config.UI_PORT_OFFSET)
        if port in _HANDED_OUT:
            continue
        if bindable(port) and bindable(port + config.UI_PORT_OFFSET):
            _HANDED_OUT.add(port)
            return port


def _own_blocks() -> list[int]:
    """This xdist worker's blocks (gw1 of 3 workers: blocks 1, 4 and 7); all without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"...; unset: no xdist
    if not worker:
        return list(range(_BLOCKS))
    workers = min(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]), _BLOCKS)
    return list(range(int(worker.removeprefix("gw")) % workers, _BLOCKS, workers))


@dataclass(frozen=True)
class RunningServer:
    address: str
    port: int
    state_dir: Path


@asynccontextmanager
async def running_worker(client: Client, task_queue: str) -> AsyncIterator[None]:
    """An in-process worker on `task_queue` for the duration of the block."""
    async with polling(build_worker(client, task_queue)):
        yield
