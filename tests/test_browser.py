"""The workshop as attendees see it: JupyterLab and the Temporal Web UI in headless Chromium.

tests/test_notebooks.py proves that the notebooks run; this test proves what only a browser
shows: Run All from JupyterLab's menu, the ipywidgets Approve button rendering and reaching
the workflow, and the notebook's link opening the order's page in the Web UI, with the
approval signal in its event history.

Playwright drives Debian's Chromium (`executable_path`), because Playwright's own browser
download is not possible here; `.ci/run` installs it where it is missing. A screenshot of each
step goes to tests/.artifacts/browser/ (git-ignored); on a failure, the page's screenshot and
text go there too. docs/screenshots/ holds copies for the README.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Locator, Page, async_playwright

from order_management import config, devserver

from .conftest import BIN, REPO, free_port

CHROMIUM = shutil.which("chromium")
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / ".artifacts" / "browser"
# Flags for a headless Chromium as root in a container with no network but the local servers.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}

LAB_START_SECONDS = 60
KERNEL_READY_SECONDS = 60
RUN_ALL_SECONDS = 90
WIDGET_SECONDS = 60
UI_SECONDS = 30

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (.ci/run installs it)"),
]


@dataclass(frozen=True)
class Lab:
    """A JupyterLab server of this test, whose kernels reach their own Temporal dev server."""

    url: str
    token: str
    temporal_port: int

    @property
    def web_ui(self) -> str:
        return f"http://localhost:{self.temporal_port + config.UI_PORT_OFFSET}"


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    """JupyterLab on a free port with token auth, serving a copy of notebooks/.

    The kernels inherit TEMPORAL_ADDRESS (a free port) and ORDER_STATE_DIR, so the notebooks
    start their own dev server there, as they do for an attendee; it is stopped at the end.
    """
    root = shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    state = tmp_path / "state"
    lab = Lab(url=f"http://127.0.0.1:{free_port()}", token=secrets.token_hex(16),
              temporal_port=free_port())
    process = _start_lab(lab, root, state, tmp_path / "jupyter")
    try:
        yield lab
    finally:
        _stop_lab(lab, process)
        monkeypatch.setenv("ORDER_STATE_DIR", str(state))
        devserver.stop(lab.temporal_port)


def _start_lab(lab: Lab, root: Path, state: Path, home: Path) -> subprocess.Popen:
    settings = home / "settings"
    # No "get Jupyter news?" toast over the notebook: the page shows only the workshop.
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    # conftest's isolated_state has already dropped the developer's own Temporal settings.
    env = {
        **{key: value for key, value in os.environ.items() if key != "TEMPORAL_UI_URL"},
        "TEMPORAL_ADDRESS": f"localhost:{lab.temporal_port}",
        "ORDER_STATE_DIR": str(state),
        "ORDER_LEDGER_DB": str(state / "ledger.db"),
        # Jupyter's own config, data and runtime files stay in this test's folder.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port = lab.url.rsplit(":", 1)[1]
    command = [
        str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={lab.token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    log = home / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=root, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + LAB_START_SECONDS
    while _lab_api(lab, "status") is None:
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_lab(lab, process)
            pytest.fail(f"JupyterLab did not answer at {lab.url} within {LAB_START_SECONDS} s:\n"
                        + log.read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    return process


def _lab_api(lab: Lab, path: str, method: str = "GET") -> object | None:
    """A call to the Jupyter server's REST API, or None when it does not answer."""
    request = urllib.request.Request(f"{lab.url}/api/{path}", method=method,
                                     headers={"Authorization": f"token {lab.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
    except (urllib.error.URLError, OSError):
        return None
    return json.loads(body) if body else {}


def _stop_lab(lab: Lab, process: subprocess.Popen) -> None:
    # Shut the kernels down through the server first: it waits for each kernel process to end,
    # so no kernel (and no in-kernel worker) outlives the test.
    for kernel in _lab_api(lab, "kernels") or []:
        _lab_api(lab, f"kernels/{kernel['id']}", method="DELETE")
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh profile."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport=VIEWPORT,
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            await context.close()


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


async def open_notebook(page: Page, lab: Lab, name: str) -> Locator:
    """Open a notebook as an attendee does, from JupyterLab's file browser; returns its panel
    once its kernel has started and is idle."""
    if not page.url.startswith(lab.url):
        await page.goto(f"{lab.url}/lab?token={lab.token}")
        # The launcher lists the kernels once JupyterLab knows them: only then does opening
        # a notebook start its kernel instead of asking which kernel to use.
        await page.locator(".jp-LauncherCard").first.wait_for(timeout=KERNEL_READY_SECONDS * 1000)
    await page.locator(".jp-DirListing-item", has_text=name).dblclick()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=name)
    await tab.wait_for(timeout=KERNEL_READY_SECONDS * 1000)
    deadline = time.monotonic() + KERNEL_READY_SECONDS
    while _kernel_state(lab, name) != "idle":
        if time.monotonic() > deadline:
            pytest.fail(f"The kernel of {name} was not ready within {KERNEL_READY_SECONDS} s")
        await page.wait_for_timeout(250)
    return page.locator(f"[id='{await tab.get_attribute('data-id')}']")


def _kernel_state(lab: Lab, name: str) -> str | None:
    sessions = _lab_api(lab, "sessions") or []
    return next((session["kernel"]["execution_state"] for session in sessions
                 if session["path"] == name and session.get("kernel")), None)


async def run_all_from_menu(page: Page) -> None:
    await page.get_by_role("menuitem", name="Run", exact=True).click()
    await page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


async def run_all_ended(panel: Locator) -> bool:
    """No cell queued or running ([*]), at least one ran, and the kernel is idle."""
    prompts = await panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
    ran = any(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts)
    indicator = panel.locator(".jp-Notebook-ExecutionIndicator")
    return ran and not any("*" in prompt for prompt in prompts) and \
        await indicator.get_attribute("data-status") == "idle"


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
        pytest.fail("Run All stopped at a failing cell:\n"
                    + await failed.locator(".jp-OutputArea").text_content())


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


async def outputs_text(panel: Locator) -> str:
    return "\n".join(await panel.locator(".jp-OutputArea-output").all_text_contents())


async def test_workshop_in_jupyterlab_and_the_web_ui(lab: Lab, browser: BrowserContext) -> None:
    page = browser.pages[0] if browser.pages else await browser.new_page()

    async with step(page, "01-first-order"):
        first = await open_notebook(page, lab, "01_first_order.ipynb")
        await run_all_from_menu(page)
        success = first.locator(".jp-OutputArea-output",
                                has_text="Order processed successfully").first
        await wait_during_run_all(first, success, RUN_ALL_SECONDS)
        await wait_until_run_all_succeeds(first, RUN_ALL_SECONDS)
        await show(success)

    async with step(page, "02-awaiting-approval"):
        second = await open_notebook(page, lab, "02_human_approval.ipynb")
        await run_all_from_menu(page)
        # The instructor's panel (section 7) comes after the other sections have run.
        # By CSS, not by role: a cell far below the screen is not in the accessibility tree.
        approve_button = page.locator("button.jupyter-button", has_text="Approve")
        panel = second.locator(".jp-OutputArea", has=approve_button)
        await wait_during_run_all(second, panel, RUN_ALL_SECONDS)
        approve = panel.locator(approve_button)
        status_line = panel.locator(".widget-html")
        await status_line.get_by_text("awaiting_approval").wait_for(
            state="attached", timeout=WIDGET_SECONDS * 1000)
        await show(panel)

    async with step(page, "03-approved"):
        await approve.click()
        await status_line.get_by_text("completed").wait_for(
            state="attached", timeout=WIDGET_SECONDS * 1000)
        await wait_until_run_all_succeeds(second, RUN_ALL_SECONDS)
        await show(panel)
        outputs = await outputs_text(second)
        # The cell after the panel clicks Approve itself when nobody does: not what we test.
        assert "Nobody clicked" not in outputs, outputs

    async with step(page, "04-web-ui-link"):
        workflow_id = await status_line.locator("b").inner_text()
        link = second.locator(f".jp-OutputArea-output a[href^='{lab.web_ui}/namespaces/']",
                              has_text=workflow_id).last
        await show(link)
        async with browser.expect_page(timeout=UI_SECONDS * 1000) as opened:
            await link.click()
        ui = await opened.value

    async with step(ui, "05-web-ui-history"):
        # Tall enough for the workflow's summary and the start of its history in one picture.
        await ui.set_viewport_size({"width": VIEWPORT["width"], "height": 1250})
        await ui.get_by_role("heading", name=workflow_id).wait_for(timeout=UI_SECONDS * 1000)
        # A click before the page's scripts have taken over would be lost: wait for them.
        await ui.wait_for_load_state("networkidle", timeout=UI_SECONDS * 1000)
        await ui.get_by_role("tab", name=re.compile(r"^Event History")).click()
        await ui.wait_for_url(re.compile(r"/history$"), timeout=UI_SECONDS * 1000)
        await ui.get_by_role("button", name="Descending").click()  # oldest event first
        signaled = ui.locator("tr", has_text="Workflow Execution Signaled")
        await signaled.wait_for(timeout=UI_SECONDS * 1000)
        assert "approve_order" in await signaled.inner_text()
