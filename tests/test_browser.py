"""The workshop as attendees see it: JupyterLab and the Temporal Web UI in headless Chromium.

tests/test_notebooks.py proves that the notebooks run; this test proves what only a browser
shows: Run All from JupyterLab's menu, the ipywidgets Approve button rendering and reaching
the workflow, the "Temporal Web UI" launcher tile showing the order in a JupyterLab tab, and
the notebook's link opening the order's page in the Web UI through Jupyter's proxy, with the
approval signal in its event history, no doubled path and no failed request.

JupyterLab runs as `make lab` runs it (`jupyter lab` on a copy of notebooks/, the workshop's
own Jupyter config), on free ports with a token. Tests with no browser check what the Jupyter
server extension promises (order_management/hosting/jupyter.py): the dev server starts with
Jupyter and stops with it, even when Jupyter is killed; the proxied UI refuses a request
without the token; JupyterLab opens on the notebooks with no news toast.

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
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import (Browser, BrowserContext, Locator, Page, Request, Response,
                                  async_playwright)

from order_management import devserver
from order_management.hosting.jupyter import WEB_UI_TITLE, web_ui_path

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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's) for the duration of the block."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()

LAB_START_SECONDS = 60
STOP_SECONDS = 30
KERNEL_READY_SECONDS = 60
RUN_ALL_SECONDS = 90
WIDGET_SECONDS = 60
UI_SECONDS = 30


def browser_test(test: Callable[..., Any]) -> Callable[..., Any]:
    """A test that drives Chromium (`pytest -m browser` runs those alone)."""
    needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                        reason="no `chromium` on PATH (.ci/run installs it)")
    return pytest.mark.browser(needs_chromium(test))


@dataclass(frozen=True)
class Lab:
    """A JupyterLab server of this test, with the Temporal dev server its extension started."""

    url: str
    token: str
    temporal_port: int
    state: Path
    process: subprocess.Popen

    @property
    def web_ui(self) -> str:
        """The Web UI as the notebooks' links give it: a path on the Jupyter server."""
        return web_ui_path("/")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("lab")) as lab:
        yield lab


@contextmanager
def running_lab(home: Path, temporal_port: int | None = None) -> Iterator[Lab]:
    """JupyterLab on a free port with token auth, serving a copy of notebooks/.

    Its kernels inherit TEMPORAL_ADDRESS (a free port unless given) and ORDER_STATE_DIR from it;
    the workshop's server extension starts the dev server there. Jupyter stops it when it
    stops; should it not, it is stopped here, so no test leaves a process behind.
    """
    root = shutil.copytree(NOTEBOOKS, home / "notebooks")
    state, port = home / "state", temporal_port or free_port()
    with state_dir(state):
        before = devserver.running(port)
    lab = _start_lab(root, state, home / "jupyter", port)
    try:
        yield lab
    finally:
        _stop_lab(lab)
        with state_dir(state):
            if devserver.running(port) != before:
                devserver.stop(port)


@contextmanager
def state_dir(state: Path) -> Iterator[None]:
    """Where this process looks for dev server records (ORDER_STATE_DIR), for a while."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDER_STATE_DIR", str(state))
        yield


def _start_lab(root: Path, state: Path, home: Path, temporal_port: int) -> Lab:
    # conftest's isolated_state has already dropped the developer's own Temporal settings.
    env = {
        **{key: value for key, value in os.environ.items() if key != "TEMPORAL_UI_URL"},
        "TEMPORAL_ADDRESS": f"localhost:{temporal_port}",
        "ORDER_STATE_DIR": str(state),
        "ORDER_LEDGER_DB": str(state / "ledger.db"),
        # Jupyter's own config, data and runtime files stay in this test's folder.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port, token = free_port(), secrets.token_hex(16)
    # `make lab`'s command (`jupyter lab --notebook-dir=notebooks`), on free ports with a token,
    # its user settings and workspaces kept in this test's folder.
    command = [
        str(BIN / "jupyter"), "lab", f"--notebook-dir={root}", "--allow-root", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    home.mkdir(parents=True, exist_ok=True)
    log = home / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=root, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, temporal_port=temporal_port,
              state=state, process=process)
    deadline = time.monotonic() + LAB_START_SECONDS
    while _lab_api(lab, "api/status") is None:
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_lab(lab)
            pytest.fail(f"JupyterLab did not answer at {lab.url} within {LAB_START_SECONDS} s:\n"
                        + log.read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    return lab


def _lab_api(lab: Lab, path: str, method: str = "GET") -> object | None:
    """A call to the Jupyter server's REST API, or None when it does not answer."""
    request = urllib.request.Request(f"{lab.url}/{path}", method=method,
                                     headers={"Authorization": f"token {lab.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
    except (urllib.error.URLError, OSError):
        return None
    return json.loads(body) if body else {}


def _stop_lab(lab: Lab) -> None:
    # Shut the kernels down through the server first: it waits for each kernel process to end,
    # so no kernel (and no in-kernel worker) outlives the test.
    for kernel in _lab_api(lab, "api/kernels") or []:
        _lab_api(lab, f"api/kernels/{kernel['id']}", method="DELETE")
    lab.process.terminate()
    try:
        lab.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=5)


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
        await open_lab(page, lab)
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


async def open_lab(page: Page, lab: Lab) -> None:
    # ?reset: the module's tests share one JupyterLab, and a restored workspace can hide the
    # launcher.
    await page.goto(f"{lab.url}/lab?reset&token={lab.token}")


def _kernel_state(lab: Lab, name: str) -> str | None:
    sessions = _lab_api(lab, "api/sessions") or []
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


async def open_launcher(page: Page) -> Locator:
    await page.get_by_role("menuitem", name="File", exact=True).click()
    await page.get_by_role("menuitem", name=re.compile(r"^New Launcher")).click()
    return page.locator(".jp-LauncherCard:visible", has_text=WEB_UI_TITLE)


async def outputs_text(panel: Locator) -> str:
    return "\n".join(await panel.locator(".jp-OutputArea-output").all_text_contents())


@dataclass
class WebUiTraffic:
    """Every request the browser made to the proxied Web UI, and the ones that went wrong."""

    prefix: str
    urls: list[str]
    failures: list[str]

    @classmethod
    def watch(cls, browser: BrowserContext, lab: Lab) -> WebUiTraffic:
        traffic = cls(prefix=f"{lab.url}{lab.web_ui}/", urls=[], failures=[])
        browser.on("request", traffic._requested)
        browser.on("requestfailed", traffic._failed)
        browser.on("response", traffic._answered)
        return traffic

    def _requested(self, request: Request) -> None:
        if request.url.startswith(self.prefix):
            self.urls.append(request.url)

    def _failed(self, request: Request) -> None:
        # A page that moves on cancels the UI's API calls still under way (net::ERR_ABORTED);
        # a page, script, style sheet, image or font that fails is what an attendee would see.
        if request.url.startswith(self.prefix) and request.resource_type not in ("fetch", "xhr"):
            self.failures.append(f"{request.url}: {request.failure}")

    def _answered(self, response: Response) -> None:
        if response.url.startswith(self.prefix) and response.status >= 400:
            self.failures.append(f"{response.url}: HTTP {response.status}")


@browser_test
async def test_workshop_in_jupyterlab_and_the_web_ui(lab: Lab, browser: BrowserContext) -> None:
    page = browser.pages[0] if browser.pages else await browser.new_page()
    web_ui = WebUiTraffic.watch(browser, lab)

    async with step(page, "00-launcher"):
        await open_lab(page, lab)
        tile = page.locator(".jp-LauncherCard", has_text=WEB_UI_TITLE)
        await tile.wait_for(timeout=KERNEL_READY_SECONDS * 1000)
        await show(tile)

    async with step(page, "01-first-order"):
        first = await open_notebook(page, lab, "01_first_order.ipynb")
        await run_all_from_menu(page)
        success = first.locator(".jp-OutputArea-output",
                                has_text="Order processed successfully").first
        await wait_during_run_all(first, success, RUN_ALL_SECONDS)
        await wait_until_run_all_succeeds(first, RUN_ALL_SECONDS)
        await show(success)
        first_order = await first.locator(
            f".jp-OutputArea-output a[href^='{lab.web_ui}/namespaces/']").first.inner_text()

    async with step(page, "01-web-ui-tab"):
        # The tile opens the Web UI in a JupyterLab tab, which can sit beside a notebook.
        await (await open_launcher(page)).click()
        frame = page.frame_locator(f"iframe[src*='{lab.web_ui}/']")
        await frame.get_by_text(first_order).first.wait_for(timeout=UI_SECONDS * 1000)

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
        # The link is a path on the Jupyter server: the UI through its proxy, behind its token.
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
        assert ui.url.startswith(f"{lab.url}{lab.web_ui}/namespaces/default/workflows/"), ui.url
        # A click before the page's scripts have taken over would be lost: wait for them.
        await ui.wait_for_load_state("networkidle", timeout=UI_SECONDS * 1000)
        await ui.get_by_role("tab", name=re.compile(r"^Event History")).click()
        await ui.wait_for_url(re.compile(r"/history$"), timeout=UI_SECONDS * 1000)
        await ui.get_by_role("button", name="Descending").click()  # oldest event first
        signaled = ui.locator("tr", has_text="Workflow Execution Signaled")
        await signaled.wait_for(timeout=UI_SECONDS * 1000)
        assert "approve_order" in await signaled.inner_text()

    doubled = f"{lab.web_ui}{lab.web_ui}/"
    assert web_ui.urls and not [url for url in web_ui.urls if doubled in url], web_ui.urls
    assert web_ui.failures == []


def _get_without_following(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """The status of a GET and the address it redirects to (not followed)."""
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as err:
        return err.code, urllib.parse.urljoin(url, err.headers.get("Location", ""))


@pytest.mark.parametrize("credentials", [{}, {"Authorization": "token not-the-token"}],
                         ids=["no token", "wrong token"])
def test_the_proxied_web_ui_refuses_a_visitor_without_the_token(
        lab: Lab, credentials: dict[str, str]) -> None:
    pages = ["/", "/namespaces/default/workflows", "/api/v1/namespaces/default/workflows"]
    for page in pages:
        status, location = _get_without_following(f"{lab.url}{lab.web_ui}{page}", credentials)
        assert (status, location.split("?")[0]) == (302, f"{lab.url}/login"), page
    status, _ = _get_without_following(f"{lab.url}{lab.web_ui}/",
                                       {"Authorization": f"token {lab.token}"})
    assert status == 200


def test_jupyterlab_opens_on_the_notebooks_without_the_news_question(lab: Lab) -> None:
    listing = _lab_api(lab, "api/contents")
    assert "00_setup.ipynb" in {item["name"] for item in listing["content"]}
    notification = _lab_api(lab, "lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {name: spec["default"]
                for name, spec in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False


def _lab_dev_server(lab: Lab) -> devserver.DevServer | None:
    """The dev server the lab's extension started or reused, from its record."""
    with state_dir(lab.state):
        return devserver.running(lab.temporal_port)


def _wait_until_gone(lab: Lab, pid: int) -> bool:
    deadline = time.monotonic() + STOP_SECONDS
    while (server := _lab_dev_server(lab)) and server.pid == pid:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_the_dev_server_starts_with_jupyter_and_ends_with_it(
        tmp_path: Path, ending: signal.Signals) -> None:
    with running_lab(tmp_path) as lab:
        server = _lab_dev_server(lab)
        assert server is not None and server.ui_public_path == lab.web_ui
        assert devserver.port_answers(lab.temporal_port)
        lab.process.send_signal(ending)
        lab.process.wait(timeout=STOP_SECONDS)
        assert _wait_until_gone(lab, server.pid)


@contextmanager
def make_server(state: Path, port: int,
                ui_public_path: str | None) -> Iterator[devserver.DevServer]:
    """A dev server started from a terminal, as `make server` does, stopped at the end."""
    with state_dir(state):
        server = devserver.start(port, ui_public_path=ui_public_path)
    try:
        yield server
    finally:
        with state_dir(state):
            devserver.stop(port)


def test_jupyter_reuses_the_dev_server_of_make_server_and_leaves_it_running(
        tmp_path: Path) -> None:
    port = free_port()
    with make_server(tmp_path / "state", port, web_ui_path("/")) as server:
        with running_lab(tmp_path, port) as lab:
            assert _lab_dev_server(lab) == server
        assert _lab_dev_server(lab) == server


def test_jupyter_restarts_a_dev_server_whose_web_ui_has_another_path(tmp_path: Path) -> None:
    port = free_port()
    with make_server(tmp_path / "state", port, None) as server:
        with running_lab(tmp_path, port) as lab:
            restarted = _lab_dev_server(lab)
            assert restarted is not None and restarted.pid != server.pid
            assert restarted.ui_public_path == lab.web_ui
        assert _wait_until_gone(lab, restarted.pid)


def test_a_dev_server_a_kernel_restarts_keeps_the_path_and_stops_with_jupyter(
        tmp_path: Path) -> None:
    with running_lab(tmp_path) as lab, state_dir(lab.state), \
            pytest.MonkeyPatch.context() as kernel:
        # What notebook 05's restart_dev_server does, with the environment Jupyter gives a kernel.
        kernel.setenv("TEMPORAL_UI_URL", lab.web_ui)
        devserver.stop(lab.temporal_port)
        restarted = devserver.start(lab.temporal_port)
        assert restarted.ui_public_path == lab.web_ui
        _stop_lab(lab)
        assert _wait_until_gone(lab, restarted.pid)
