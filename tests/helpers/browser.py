"""Headless Chromium (Debian's, driven by Playwright) and the JupyterLab steps tests take in it."""

from __future__ import annotations

import io
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import (
    Browser,
    Locator,
    Page,
    async_playwright,
)

from tests.helpers.servers import REPO

CHROMIUM = shutil.which("chromium")


ARTIFACTS = REPO / "tests" / ".artifacts" / "browser"


# Flags for a headless Chromium as root in a container with no network but the local servers.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


VIEWPORT = {"width": 1280, "height": 800}


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's) for the duration of the block."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            await browser.close()


KERNEL_READY_SECONDS = 60


RUN_ALL_SECONDS = 90


WIDGET_SECONDS = 60


UI_SECONDS = 30


def browser_test(test: Callable[..., Any]) -> Callable[..., Any]:
    """A test that drives Chromium (`pytest -m browser` runs those alone)."""
    needs_chromium = pytest.mark.skipif(
        CHROMIUM is None, reason="no `chromium` on PATH (.ci/run installs it)"
    )
    return pytest.mark.browser(needs_chromium(test))


@asynccontextmanager
async def step(page: Page, name: str) -> AsyncIterator[None]:
    """One step of the walk-through: a screenshot when it is done, and on a failure the
    page's screenshot and text, so a red CI run shows what the attendee would have seen."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        with suppress(Exception):  # a crashed page has nothing to show; keep the real error
            await save_screenshot(page, ARTIFACTS / f"{name}-FAILED.png")
            (ARTIFACTS / f"{name}-FAILED.txt").write_text(await page.inner_text("body"))
        raise
    await save_screenshot(page, ARTIFACTS / f"{name}.png")


async def save_screenshot(page: Page, path: Path) -> None:
    # 256 colours are plenty for a UI, and make the PNG small enough for docs/screenshots/.
    image = Image.open(io.BytesIO(await page.screenshot())).convert("RGB")
    image.quantize(colors=256).save(path, optimize=True)


async def run_all_from_menu(page: Page) -> None:
    await page.get_by_role("menuitem", name="Run", exact=True).click()
    await page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


async def run_all_ended(panel: Locator) -> bool:
    """No cell queued or running ([*]), at least one ran, and the kernel is idle."""
    prompts = await panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
    ran = any(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts)
    indicator = panel.locator(".jp-Notebook-ExecutionIndicator")
    return (
        ran
        and not any("*" in prompt for prompt in prompts)
        and await indicator.get_attribute("data-status") == "idle"
    )


async def wait_until_run_all_succeeds(panel: Locator, seconds: float) -> None:
    """Wait for Run All to end, then check that it ran every cell.

    A cell that raises stops Run All: the cells after it keep an empty prompt, and the test
    fails with the failed cell's output.
    """
    deadline = time.monotonic() + seconds
    while not await run_all_ended(panel):
        if time.monotonic() > deadline:
            pytest.fail(f"Run All did not finish within {seconds:g} s")
        await panel.page.wait_for_timeout(250)
    cells = panel.locator(".jp-CodeCell")
    prompts = await cells.locator(".jp-InputArea-prompt").all_text_contents()
    if "[ ]:" in prompts:
        failed = cells.nth(prompts.index("[ ]:") - 1)
        pytest.fail(
            "Run All stopped at a failing cell:\n"
            + await failed.locator(".jp-OutputArea").text_content()
        )


async def wait_during_run_all(panel: Locator, target: Locator, seconds: float) -> None:
    """Wait until `target` is in the page; fail at once if Run All ends (or fails) first."""
    deadline = time.monotonic() + seconds
    while not await target.count():
        if await run_all_ended(panel):
            await wait_until_run_all_succeeds(panel, 0)
            pytest.fail(f"Run All ended without showing {target}")
        if time.monotonic() > deadline:
            pytest.fail(f"{target} did not appear within {seconds:g} s of Run All")
        await panel.page.wait_for_timeout(250)


async def show(target: Locator) -> None:
    """Scroll `target` to the middle of the screen, for the step's screenshot."""
    await target.evaluate("e => e.scrollIntoView({block: 'center', inline: 'nearest'})")
