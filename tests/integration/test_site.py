"""`make site` on a fresh clone, and the site it builds, read in Chromium as a reader would.

The clone gets its own `.venv` (uv takes the packages from its cache) and runs every notebook
against dev servers the notebooks start. Chromium then opens every page from a local web
server, with every request to another host refused and recorded, at a laptop's 1366 px.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat
import pytest
from playwright.async_api import Page, Route

from tests.helpers.browser import browser_test, chromium, save_screenshot
from tests.helpers.servers import REPO, free_port
from website.pages import contents

pytestmark = pytest.mark.notebook

ARTIFACTS = REPO / "tests" / ".artifacts" / "site"
BUILD_SECONDS = 900  # about 3 minutes on a busy 2-core machine; the notebooks bound their waits
LAPTOP = {"width": 1366, "height": 768}
# What a page must not show: a Python traceback, or a path of the machine that built it.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+", re.M)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh clone of this checkout's HEAD, removed at the end (its .venv is large)."""
    folder = tmp_path_factory.mktemp("site") / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder)], check=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def site(clone: Path) -> Iterator[str]:
    """`make site` in the clone; the built site's address on a local web server."""
    done = _make_site(clone)
    print(done.stdout[-2000:])
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert _processes_in(clone) == [], "make site left these running"
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=clone / "build/site/html")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def _make_site(clone: Path) -> subprocess.CompletedProcess[str]:
    """`make site`; past BUILD_SECONDS, Ctrl-C for it, so the build stops its dev servers."""
    make = subprocess.Popen(
        ["make", "site"],
        cwd=clone,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = make.communicate(timeout=BUILD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(make.pid, signal.SIGINT)
        stdout, stderr = make.communicate(timeout=60)
        pytest.fail(f"make site took over {BUILD_SECONDS} s:\n{stdout[-3000:]}{stderr[-3000:]}")
    return subprocess.CompletedProcess(make.args, make.returncode, stdout, stderr)


def _processes_in(clone: Path) -> list[str]:
    """Processes working in the clone: the kernels, and the dev servers and worker processes
    they start, all run in its build/site/run/."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if proc.joinpath("cwd").resolve().is_relative_to(clone):
                found.append(proc.joinpath("cmdline").read_text().replace("\0", " "))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@browser_test
@pytest.mark.timeout(BUILD_SECONDS + 300)  # the build, then Chromium on every page
async def test_make_site_on_a_fresh_clone_renders_every_notebook_with_its_outputs(
    site: str, clone: Path
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    elsewhere: list[str] = []

    async def local_only(route: Route) -> None:
        if urlparse(route.request.url).netloc == urlparse(site).netloc:
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    async with chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await page.route("**/*", local_only)

        # The front page: the agenda, every notebook in the workshop's order, and the menu.
        await page.goto(site)
        await save_screenshot(page, ARTIFACTS / "site-front.png")
        menu = await page.locator(".sidebar-tree a.reference").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        order = contents(clone / "notebooks").order
        assert menu == [f"{name}.html" for name in order] + ["run-it-yourself.html"]
        agenda = await page.locator("article").inner_text()
        for name in order:
            assert f"{name}.ipynb" in agenda
        assert re.search(r"\d+ minutes", agenda), agenda

        pages = ["index.html", *menu]
        for name in pages:
            await page.goto(urljoin(site, name))
            await _reads_well(page, name)
            if name.removesuffix(".html") in order:
                await _shows_the_outputs(
                    page, (clone / "build/site/source" / name).with_suffix(".ipynb")
                )
        await _shows_a_history_table(page, urljoin(site, "01_first_order.html"))
        await _links_resolve(page, site, pages)

        run_it = urljoin(site, "run-it-yourself.html")
        await page.goto(run_it)
        text = await page.locator("article").inner_text()
        for way in ("make lab", "conda env create", "pip install -e .", "make room"):
            assert way in text, f"run-it-yourself lacks {way}"

    assert elsewhere == [], f"pages loaded from other hosts: {elsewhere}"


async def _reads_well(page: Page, name: str) -> None:
    """No horizontal scrolling of the page at 1366 px, no traceback, nothing of the builder."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} is {overflow} px wider than the window"
    text = await page.locator("body").inner_text()
    assert not TRACEBACK.search(text), f"{name} shows a traceback"
    for machine in ("/work/", "/tmp/", "/root", "token="):
        assert machine not in text, f"{name} shows {machine}"
    local = await page.locator("a[href*='localhost'], a[href*='127.0.0.1']").count()
    assert local == 0, f"{name} has a clickable link to the build machine"


async def _shows_the_outputs(page: Page, executed: Path) -> None:
    """Every cell that had an output shows one; the code is highlighted; errors are the
    mistakes' one-liners, never a cell that raised."""
    nb = nbformat.read(executed, as_version=4)
    with_output = [c for c in nb.cells if c.cell_type == "code" and c.outputs]
    shown = page.locator("div.cell:has(div.cell_output)")
    assert await shown.count() == len(with_output), executed.name
    keywords = page.locator(
        "div.cell_input div.highlight span.k, div.cell_input div.highlight span.kn"
    )
    assert await keywords.count() > 0, f"{executed.name}: its code is not highlighted"
    assert await page.locator(".cell_output .traceback, .cell_output .output.error").count() == 0
    for block in await page.locator(".cell_output .output.stderr").all_inner_texts():
        for line in filter(None, block.splitlines()):
            assert not line.startswith((" ", "\t")), f"{executed.name}: more than one line: {block}"
    if any("show_code(" in c.source for c in with_output):
        # show_code's source, highlighted by Pygments inside the output
        listing = page.locator(".cell_output .highlight span[style*='color']")
        assert await listing.count() > 0, f"{executed.name}: show_code's listing is not highlighted"


async def _shows_a_history_table(page: Page, url: str) -> None:
    await page.goto(url)
    table = page.locator(".cell_output table.dataframe", has_text="WorkflowExecutionCompleted")
    header = await table.first.locator("thead").inner_text()
    for column in ("event_id", "event_type", "activity"):
        assert column in header
    # A wide table scrolls inside its cell; the cell stays within the page.
    box = await page.locator(".cell_output:has(table.dataframe)").first.bounding_box()
    assert box and box["x"] + box["width"] <= LAPTOP["width"]
    # Down from the top to the cell above the table (scrolling up would show Furo's
    # "Back to top" button over the page).
    await table.first.evaluate(
        "t => window.scrollTo(0, t.getBoundingClientRect().top + window.scrollY - 180)"
    )
    await save_screenshot(page, ARTIFACTS / "site-history.png")


async def _links_resolve(page: Page, site: str, pages: list[str]) -> None:
    """Every link between pages reaches a page, and every #anchor an element of it."""
    checked: set[str] = set()
    for name in pages:
        url = urljoin(site, name)
        await page.goto(url)
        hrefs = await page.locator("a[href]").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        for href in hrefs:
            target, fragment = urldefrag(urljoin(url, href))
            if not target.startswith(site) or f"{target}#{fragment}" in checked:
                continue
            checked.add(f"{target}#{fragment}")
            response = await page.request.get(target)
            assert response.ok, f"{name} links to {href}: {response.status}"
            if fragment:
                body = await response.text()
                assert f'id="{fragment}"' in body, f"{name} links to {href}: no #{fragment}"
