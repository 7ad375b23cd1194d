"""The workshop as attendees see it: JupyterLab and the Temporal Web UI in headless Chromium.

tests/integration/test_run_all.py proves that the notebooks run; this test proves what only
a browser shows: Run All from JupyterLab's menu, the ipywidgets Approve button rendering and
reaching the workflow, the "Temporal Web UI" launcher tile showing the order in a JupyterLab tab,
and the notebook's link opening the order's page in the Web UI through Jupyter's proxy, with the
approval signal in its event history, no doubled path and no failed request; and the learner's
progress recording a notebook as finished once JupyterLab ran its last cell.

JupyterLab runs as `make lab` runs it (`jupyter lab` on a copy of notebooks/, the workshop's
own Jupyter config), on free ports with a token (tests/helpers/lab.py).

Playwright drives Debian's Chromium (`executable_path`), because Playwright's own browser
download is not possible here; `.ci/run` installs it where it is missing. A screenshot of each
step goes to tests/.artifacts/browser/ (git-ignored); on a failure, the page's screenshot and
text go there too. docs/screenshots/ holds copies for the README.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import pytest
from playwright.async_api import (
    BrowserContext,
    Locator,
    Page,
    Request,
    Response,
)
from temporalio.client import Client

from order_management.hosting.jupyter import WEB_UI_TITLE
from order_management.progress.workflow import PROGRESS_WORKFLOW_ID, LearnerProgress
from tests.helpers.browser import (
    KERNEL_READY_SECONDS,
    RUN_ALL_SECONDS,
    UI_SECONDS,
    VIEWPORT,
    WIDGET_SECONDS,
    browser_test,
    run_all_from_menu,
    show,
    step,
    wait_during_run_all,
    wait_until_run_all_succeeds,
)
from tests.helpers.lab import Lab, lab_api


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
    sessions = lab_api(lab, "api/sessions") or []
    return next(
        (
            session["kernel"]["execution_state"]
            for session in sessions
            if session["path"] == name and session.get("kernel")
        ),
        None,
    )


async def open_launcher(page: Page) -> Locator:
    await page.get_by_role("menuitem", name="File", exact=True).click()
    await page.get_by_role("menuitem", name=re.compile(r"^New Launcher")).click()
    return page.locator(".jp-LauncherCard:visible", has_text=WEB_UI_TITLE)


async def finished(lab: Lab, notebook: str) -> bool:
    """Whether the learner's progress workflow lists `notebook` as finished, by query, within
    UI_SECONDS (the kernel signals it in the background)."""
    client = await Client.connect(f"localhost:{lab.temporal_port}")
    handle = client.get_workflow_handle(PROGRESS_WORKFLOW_ID)
    deadline = time.monotonic() + UI_SECONDS
    while notebook not in (await handle.query(LearnerProgress.progress)).finished:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


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
        success = first.locator(
            ".jp-OutputArea-output", has_text="Order processed successfully"
        ).first
        await wait_during_run_all(first, success, RUN_ALL_SECONDS)
        await wait_until_run_all_succeeds(first, RUN_ALL_SECONDS)
        await show(success)
        first_order = await first.locator(
            f".jp-OutputArea-output a[href^='{lab.web_ui}/namespaces/']"
        ).first.inner_text()
        # JupyterLab sends each cell's id with it: 01's last cell ran, so 01 is finished.
        assert await finished(lab, "01_first_order")

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
            state="attached", timeout=WIDGET_SECONDS * 1000
        )
        await show(panel)

    async with step(page, "03-approved"):
        await approve.click()
        await status_line.get_by_text("completed").wait_for(
            state="attached", timeout=WIDGET_SECONDS * 1000
        )
        await wait_until_run_all_succeeds(second, RUN_ALL_SECONDS)
        await show(panel)
        outputs = await outputs_text(second)
        # The cell after the panel clicks Approve itself when nobody does: not what we test.
        assert "Nobody clicked" not in outputs, outputs

    async with step(page, "04-web-ui-link"):
        workflow_id = await status_line.locator("b").inner_text()
        # The link is a path on the Jupyter server: the UI through its proxy, behind its token.
        link = second.locator(
            f".jp-OutputArea-output a[href^='{lab.web_ui}/namespaces/']", has_text=workflow_id
        ).last
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
