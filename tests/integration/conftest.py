"""Fixtures of the integration tier: a Temporal address for notebooks' kernels, a live kernel,
JupyterLab as `make lab` runs it, and a browser context."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.async_api import (
    BrowserContext,
    async_playwright,
)

from order_management.local import devserver
from tests.helpers.browser import CHROMIUM, CHROMIUM_FLAGS, VIEWPORT
from tests.helpers.lab import Lab, running_lab
from tests.helpers.notebooks import Kernel, NotebookServer, notebook_client
from tests.helpers.servers import BIN, free_port


@pytest.fixture(scope="module")
def notebook_server(isolated_state: Path) -> Iterator[NotebookServer]:
    port = free_port()
    env = dict(
        os.environ,
        TEMPORAL_ADDRESS=f"localhost:{port}",
        ORDER_STATE_DIR=str(isolated_state),
        ORDER_LEDGER_DB=str(isolated_state / "notebooks-ledger.db"),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    try:
        yield NotebookServer(port=port, env=env)
    finally:
        devserver.stop(port)  # the server the first notebook started (same state dir)


@pytest.fixture(scope="module")
def kernel(notebook_server: NotebookServer) -> Iterator[Kernel]:
    client = notebook_client(nbformat.v4.new_notebook())
    with client.setup_kernel(env=notebook_server.env):
        shell = Kernel(client)
        shell.run("""
import asyncio
from order_management.local import config
from order_management.notebook import *
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow
client = await connect_and_show()
await start_worker(client)

async def start(order, task_queue=None):
    return await client.start_workflow(OrderWorkflow.run, order,
                                       id=f"order-workflow-{order.order_id}",
                                       task_queue=task_queue or config.task_queue())
""")
        yield shell


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("lab")) as lab:
        yield lab


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh profile."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            await context.close()
