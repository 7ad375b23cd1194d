"""Real servers for tests: free ports, the running dev server's address, an in-process worker."""

from __future__ import annotations

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
# never take a server's port between the check and the server's bind.
_PORT_RANGE = (15000, 31000 - config.UI_PORT_OFFSET)


def bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port whose Web UI companion (port + 1000) is free too."""
    while True:
        port = random.randrange(*_PORT_RANGE)
        if bindable(port) and bindable(port + config.UI_PORT_OFFSET):
            return port


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
