"""The Web UI's Send a Signal dialog, in headless Chromium: approve_order with an empty input.

The dialog lets anyone send any signal with any JSON, or none. An empty one must change
nothing: the order keeps waiting, lists the signal as ignored, and still answers queries; a
real decision afterwards completes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser
from temporalio.client import Client, WorkflowExecutionStatus

from order_management.ledger import Ledger
from order_management.local import config
from order_management.orders import await_result, place_order, send_approval
from order_management.shared import OrderStatus, make_order
from order_management.workflow import OrderWorkflow
from tests.helpers.browser import CHROMIUM, VIEWPORT, chromium
from tests.helpers.servers import RunningServer, running_worker

IGNORED = "approve_order() ignored: approve_order takes true or false"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (.ci/run installs it)"),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


async def test_an_empty_signal_from_the_web_ui_leaves_the_order_waiting(
    browser: Browser,
    dev_server: RunningServer,
    dev_client: Client,
    ledger: Ledger,
    task_queue: str,
    order_id: str,
    tmp_path: Path,
) -> None:
    async with running_worker(dev_client, task_queue):
        handle = await place_order(dev_client, make_order(1500, order_id), task_queue)
        page = await browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(20_000)
        await page.goto(config.temporal_settings().workflow_url(handle.id))
        await page.get_by_role("heading", name=handle.id).wait_for()
        await page.get_by_role("button", name="More Actions").click()
        await page.get_by_role("menuitem", name="Send a Signal").click()
        dialog = page.locator("dialog[open]")
        await dialog.get_by_test_id("signal-select-button").click()  # names from the worker
        await dialog.get_by_role("option", name="approve_order").click()
        await dialog.get_by_role("button", name="Submit").click()  # the Data field left empty
        await page.get_by_text("Workflow signaled.").first.wait_for()

        while (
            IGNORED
            not in (progress := await handle.query(OrderWorkflow.get_progress)).ignored_messages
        ):
            await asyncio.sleep(0.05)
        assert progress.status == OrderStatus.AWAITING_APPROVAL
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert ledger.entries(order_id) == []

        await send_approval(handle, True)
        assert (await await_result(handle, timeout=30)).status == OrderStatus.COMPLETED
