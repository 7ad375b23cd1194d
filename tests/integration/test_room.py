"""A room: `make room` on this machine, two attendees logging in through Chromium.

The hub runs as `make room` runs it (as root, on free ports, with the shared environment it
builds in ROOM_ENV and reuses while the workshop's code is unchanged), with a state folder of
this test's own. Each attendee is a new system user; the test removes them, with their homes,
whatever happens.

- Two attendees each run `01_first_order.ipynb` from the Run menu, open the "Temporal Web UI"
  tile and see their own order there, not the other's. One is refused the other's JupyterLab,
  Web UI, files and (with iptables) dev server; a wrong password or an unsafe name is
  refused; the instructor opens an attendee's JupyterLab. An attendee who stops their server
  from the hub's page leaves nothing running. After `make room-stop` none of the hub, the
  proxy, the Jupyter servers, the kernels or the dev servers is left.
- Three attendees and the instructor's view: all three listed with their notebook, the one
  who started an order no worker polls for marked STUCK with a link that opens it in their
  Web UI; an attendee is refused the view.
- A room pointed at a shared server (the session's dev server stands in for a cluster) gives
  each attendee a namespace of their own, and their orders land there.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from order_management.hosting.room import processes
from order_management.hosting.room.settings import DEFAULT_ROOM_DIR, namespace_of, system_user
from order_management.progress.table import DONE
from tests.helpers.browser import (
    CHROMIUM,
    KERNEL_READY_SECONDS,
    RUN_ALL_SECONDS,
    UI_SECONDS,
    VIEWPORT,
    chromium,
    run_all_from_menu,
    step,
    wait_during_run_all,
    wait_until_run_all_succeeds,
)
from tests.helpers.servers import REPO, RunningServer, bindable, free_port

# The first `make room` on a machine builds the shared environment (about 90 s here).
MAKE_ROOM_SECONDS = 600
STOP_SECONDS = 90
LOGIN_SECONDS = 120
INSTRUCTOR = "instructor"
WORKFLOW_ID = re.compile(r"order-workflow-[A-Z0-9-]+")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(MAKE_ROOM_SECONDS + 300),
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or os.geteuid() != 0,
        reason="a room needs Linux and root (system users)",
    ),
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (.ci/run installs it)"),
    pytest.mark.skipif(shutil.which("npm") is None, reason="no npm for configurable-http-proxy"),
]


@dataclass(frozen=True)
class Room:
    """A room of this test: its address, its passwords, and its folder."""

    url: str
    password: str
    instructor_password: str
    directory: Path
    environment: dict[str, str]

    @property
    def hub_log(self) -> Path:
        return self.directory / "hub" / "hub.log"

    def hub_pid(self) -> int:
        return int((self.directory / "hub" / "hub.pid").read_text())


def make(target: str, room: Room, seconds: float) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), target],
        env=room.environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds,
    )
    assert done.returncode == 0, f"make {target} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_room_port() -> int:
    """A port for the hub whose next three (the hub's API, the proxy's, the instructor's view)
    are free too."""
    while True:
        port = free_port()
        if all(bindable(port + n) for n in (1, 2, 3)):
            return port


@contextmanager
def running_room(**temporal: str) -> Iterator[Room]:
    """`make room` with this test's folder and ports; `make room-stop` and the removal of its
    attendees at the end. `temporal` (TEMPORAL_ADDRESS=...) points the room at a shared server."""
    directory = Path(tempfile.mkdtemp(prefix="room-test-"))
    port = _free_room_port()
    password, instructor_password = (secrets.token_urlsafe(n) for n in (9, 24))
    # The room's own settings only: none of this test session's Temporal or state variables.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEMPORAL_", "ORDER_", "ROOM_"))
    }
    environment.update(
        ROOM_DIR=str(directory),
        ROOM_IP="127.0.0.1",
        ROOM_PORT=str(port),
        ROOM_PASSWORD=password,
        ROOM_INSTRUCTOR_PASSWORD=instructor_password,
        **temporal,
    )
    room = Room(
        url=f"http://127.0.0.1:{port}/",
        password=password,
        instructor_password=instructor_password,
        directory=directory,
        environment=environment,
    )
    try:
        print(make("room", room, MAKE_ROOM_SECONDS))
        yield room
    finally:
        make("room-stop", room, STOP_SECONDS)
        subprocess.run(
            [sys.executable, "-m", "order_management.hosting.room.environment", "remove"],
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            check=True,
        )
        shutil.rmtree(directory)


async def new_attendee_page(browser: Browser) -> Page:
    """A browser window of one attendee (cookies of their own)."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    return await context.new_page()


async def submit_login(page: Page, room: Room, name: str, password: str, then: str = "") -> None:
    """Fill in and send the hub's login form; `then`: the hub page to go to afterwards (by
    default, the user's own JupyterLab, started if need be)."""
    await page.goto(f"{room.url}hub/login" + (f"?next=/hub/{then}" if then else ""))
    await page.locator("#username_input").fill(name)
    await page.locator("#password_input").fill(password)
    await page.locator("#login_submit").click()


async def log_in(page: Page, room: Room, name: str) -> float:
    """Log in as an attendee and wait for their JupyterLab; returns the seconds it took."""
    await submit_login(page, room, name, room.password)
    started = time.monotonic()
    await page.wait_for_url(re.compile(rf"/user/{name}/lab"), timeout=LOGIN_SECONDS * 1000)
    await page.locator(".jp-LauncherCard").first.wait_for(timeout=LOGIN_SECONDS * 1000)
    return time.monotonic() - started


async def open_notebook(page: Page, notebook: str) -> Locator:
    """Open a notebook from the file browser; returns its panel once its kernel is idle."""
    await page.locator(".jp-DirListing-item", has_text=notebook).dblclick()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=notebook)
    await tab.wait_for(timeout=KERNEL_READY_SECONDS * 1000)
    # Opened before JupyterLab has listed the kernels, a notebook asks which one to start:
    # the attendee keeps the one offered.
    select = page.get_by_role("button", name="Select", exact=True)
    deadline = time.monotonic() + KERNEL_READY_SECONDS
    while await kernel_state(page, notebook) != "idle":
        if time.monotonic() > deadline:
            pytest.fail(f"The kernel of {notebook} was not ready within {KERNEL_READY_SECONDS} s")
        if await select.count():
            await select.click()
        await page.wait_for_timeout(250)
    return page.locator(f"[id='{await tab.get_attribute('data-id')}']")


async def kernel_state(page: Page, notebook: str) -> str | None:
    """The notebook's kernel state, from the attendee's Jupyter server (their cookie)."""
    response = await page.request.get(page.url.split("/lab")[0] + "/api/sessions")
    sessions = await response.json() if response.ok else []
    return next(
        (
            session["kernel"]["execution_state"]
            for session in sessions
            if session["path"] == notebook and session.get("kernel")
        ),
        None,
    )


async def run_first_order(page: Page, name: str) -> str:
    """Run All of 01_first_order.ipynb from the Run menu; returns the id of the order's
    workflow, as the notebook printed it."""
    async with step(page, f"room-{name}-01-first-order"):
        panel = await open_notebook(page, "01_first_order.ipynb")
        await run_all_from_menu(page)
        success = panel.locator(
            ".jp-OutputArea-output", has_text="Order processed successfully"
        ).first
        await wait_during_run_all(panel, success, RUN_ALL_SECONDS)
        await wait_until_run_all_succeeds(panel, RUN_ALL_SECONDS)
        outputs = "\n".join(await panel.locator(".jp-OutputArea-output").all_text_contents())
    return WORKFLOW_ID.search(outputs).group()


async def web_ui_lists(page: Page, name: str, workflow_id: str, other_id: str) -> None:
    """Open the launcher's "Temporal Web UI" tile: the attendee's order is listed, the other
    attendee's is not."""
    async with step(page, f"room-{name}-web-ui"):
        await page.goto(page.url.split("/lab")[0] + "/lab?reset")  # a fresh launcher
        await page.locator(".jp-LauncherCard", has_text="Temporal Web UI").click()
        ui = page.frame_locator("iframe[src*='temporal']")
        await ui.get_by_text(workflow_id).first.wait_for(timeout=UI_SECONDS * 1000)
        assert await ui.get_by_text(other_id).count() == 0


async def refused(page: Page, url: str) -> bool:
    """True when the page's user may not open `url`: a 403, or a redirect elsewhere."""
    response = await page.request.get(url)
    return response.status == 403 or not response.url.startswith(url)


async def instructor_opens(browser: Browser, room: Room, name: str) -> None:
    """The instructor logs in to the admin page, sees the attendee there, and opens their
    JupyterLab (after JupyterHub's "authorize access" question, asked whenever one opens
    another user's server)."""
    page = await new_attendee_page(browser)
    await submit_login(page, room, INSTRUCTOR, room.instructor_password, then="admin")
    await page.get_by_text(name).first.wait_for()
    await page.goto(f"{room.url}user/{name}/lab")
    authorize = page.get_by_role("button", name="Authorize")
    await authorize.or_(page.locator(".jp-LauncherCard").first).first.wait_for(
        timeout=LOGIN_SECONDS * 1000
    )
    if await authorize.count():
        await authorize.click()
    await page.wait_for_url(re.compile(rf"/user/{name}/lab"))
    await page.locator(".jp-DirListing-item", has_text="01_first_order.ipynb").wait_for()


def connects_as(system_name: str, port: int) -> bool:
    """True when the system user `system_name` can open a TCP connection to 127.0.0.1:`port`."""
    probe = f"exec 3<>/dev/tcp/127.0.0.1/{port}"
    return (
        subprocess.run(
            ["runuser", "-u", system_name, "--", "bash", "-c", probe],
            capture_output=True,
            timeout=10,
        ).returncode
        == 0
    )


def dev_server_port(name: str) -> int:
    """The gRPC port of the attendee's dev server, from their Jupyter server's environment."""
    uid = pwd.getpwnam(system_user(name)).pw_uid
    for pid in processes.of_users({uid}):
        if b"jupyterhub-singleuser" in Path(f"/proc/{pid}/cmdline").read_bytes():
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            address = next(v for v in environment if v.startswith(b"TEMPORAL_ADDRESS="))
            return int(address.rsplit(b":", 1)[1])
    raise AssertionError(f"no Jupyter server of {name}")


def room_program(room: Room, name: str) -> str:
    """A program of the room's shared environment, which every attendee may run."""
    return str(Path(room.environment.get("ROOM_ENV", DEFAULT_ROOM_DIR / "env")) / "bin" / name)


def start_order_as(room: Room, attendee: str, workflow_id: str) -> None:
    """The attendee starts a workflow on their own dev server (no worker: it waits there)."""
    address = f"127.0.0.1:{dev_server_port(attendee)}"
    done = subprocess.run(
        ["runuser", "-u", system_user(attendee), "--", room_program(room, "temporal")]
        + ["workflow", "start", "--address", address, "--type", "OrderWorkflow"]
        + ["--task-queue", "nobody-polls", "--workflow-id", workflow_id, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["workflowId"] == workflow_id


def left_running_by(name: str) -> int:
    """A process the attendee started and left running (as a worker started from a terminal
    would be); its pid."""
    started = subprocess.run(
        [
            "runuser",
            "-u",
            system_user(name),
            "--",
            "bash",
            "-c",
            "sleep 600 >/dev/null 2>&1 & echo $!",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(started.stdout)


async def stop_my_server(page: Page, room: Room) -> None:
    """The attendee stops their server from the hub's home page, and waits until it has."""
    await page.goto(f"{room.url}hub/home")
    await page.get_by_role("button", name="Stop My Server").click()
    await page.get_by_role("button", name="Start My Server").wait_for(timeout=STOP_SECONDS * 1000)


def running_room_processes(room: Room, attendees: list[str]) -> dict[int, bytes]:
    """The command line of every process of the hub's tree and of the attendees."""
    uids = {pwd.getpwnam(system_user(name)).pw_uid for name in attendees}
    pids = {room.hub_pid(), *processes.descendants(room.hub_pid()), *processes.of_users(uids)}
    return {
        pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        for pid in pids
        if processes.alive(pid)
    }


def assert_private(owner: str, other: str) -> None:
    """`other` can neither list `owner`'s notebooks nor, where iptables is installed, connect
    to `owner`'s dev server, which `owner` can."""
    notebooks = Path(pwd.getpwnam(system_user(owner)).pw_dir) / "notebooks"
    peek = subprocess.run(
        ["runuser", "-u", system_user(other), "--", "ls", str(notebooks)],
        capture_output=True,
        text=True,
    )
    assert peek.returncode != 0 and "Permission denied" in peek.stderr
    if shutil.which("iptables"):  # the room closes a dev server's ports to other users
        assert connects_as(system_user(owner), dev_server_port(owner))
        assert not connects_as(system_user(other), dev_server_port(owner))


async def test_two_attendees_each_see_their_own_orders_and_nothing_of_the_other() -> None:
    suffix = secrets.token_hex(2)
    ada, bob = f"ada-{suffix}", f"bob-{suffix}"
    with running_room() as room:
        async with chromium() as browser:
            pages = {ada: await new_attendee_page(browser), bob: await new_attendee_page(browser)}

            for name, password in ((ada, "not-the-password"), ("../" + ada, room.password)):
                await submit_login(pages[ada], room, name, password)
                await pages[ada].get_by_text("Invalid username or password").wait_for()

            seconds = await asyncio.gather(*(log_in(pages[name], room, name) for name in pages))
            print(
                f"Login to a running JupyterLab (first login, user created): "
                f"{seconds[0]:.1f} s and {seconds[1]:.1f} s"
            )
            orders = dict(
                zip(
                    pages,
                    await asyncio.gather(
                        *(run_first_order(page, name) for name, page in pages.items())
                    ),
                )
            )
            await asyncio.gather(
                web_ui_lists(pages[ada], ada, orders[ada], orders[bob]),
                web_ui_lists(pages[bob], bob, orders[bob], orders[ada]),
            )

            for path in ("lab", "temporal/", "api/contents/01_first_order.ipynb"):
                assert await refused(pages[ada], f"{room.url}user/{bob}/{path}"), path
            assert_private(bob, ada)
            await instructor_opens(browser, room, ada)

            running = running_room_processes(room, [ada, bob])
            for kind in (
                b"jupyterhub ",
                b"configurable-http-proxy",
                b"jupyterhub-singleuser",
                b"ipykernel",
                b"temporal server start-dev",
            ):
                assert any(kind in command for command in running.values()), (kind, running)
            leftover = left_running_by(bob)
            await stop_my_server(pages[bob], room)
            assert not processes.alive(leftover)

        make("room-stop", room, STOP_SECONDS)
        assert not {pid: command for pid, command in running.items() if processes.alive(pid)}
        log = room.hub_log.read_text()
        assert room.password not in log and room.instructor_password not in log


def record_as(room: Room, attendee: str, notebook: str, signals: tuple[str, ...]) -> None:
    """The attendee's kernel records `signals` for `notebook` (opened, finished), its progress
    worker running until the progress workflow has taken them (as a kernel's hooks and worker
    do)."""
    code = (
        "import asyncio\n"
        "from temporalio.client import Client\n"
        "from order_management.progress import record\n"
        "from order_management.worker import polling\n"
        "async def main():\n"
        f"    client = await Client.connect('127.0.0.1:{dev_server_port(attendee)}')\n"
        "    async with polling(record.progress_worker(client)):\n"
        f"        for signal in {signals!r}:\n"
        f"            await record.send(client, signal, {notebook!r})\n"
        "        await record.read_progress(client)\n"
        "asyncio.run(main())\n"
        # Past the SDK's crash at interpreter teardown (sdk-python issue #300).
        "import os; os._exit(0)\n"
    )
    subprocess.run(
        ["runuser", "-u", system_user(attendee), "--", room_program(room, "python"), "-I"]
        + ["-c", code],
        check=True,
        timeout=60,
        cwd="/",
    )


async def instructors_view(browser: Browser, room: Room) -> Page:
    """The instructor logs in to the admin page and follows its link to the instructor's view."""
    page = await new_attendee_page(browser)
    await submit_login(page, room, INSTRUCTOR, room.instructor_password, then="admin")
    await page.locator("#instructor-view").click()
    await page.wait_for_url(re.compile(r"/services/instructor/"), timeout=LOGIN_SECONDS * 1000)
    return page


async def test_the_instructor_sees_every_attendee_and_who_is_stuck() -> None:
    """Three attendees log in and open notebook 01, one of them finishes it; one starts an order
    on a task queue that no worker polls. The instructor's view lists all three with their
    notebook, marks 01 finished for the one who finished it, marks that other one STUCK with a
    link to the order in their Web UI, which opens it; no attendee may open the view."""
    suffix = secrets.token_hex(2)
    names = [f"{first}-{suffix}" for first in ("eva", "fay", "gus")]
    stuck_one, order = names[1], f"order-workflow-STUCK-{suffix}"
    finisher = names[2]
    with running_room() as room:
        async with chromium() as browser:
            pages = {name: await new_attendee_page(browser) for name in names}
            await asyncio.gather(*(log_in(pages[name], room, name) for name in names))
            for name in names:
                finished = ("notebook_finished",) if name == finisher else ()
                record_as(room, name, "01_first_order", ("notebook_opened", *finished))
            start_order_as(room, stuck_one, order)

            assert await refused(pages[names[0]], f"{room.url}services/instructor/")
            async with step(pages[names[0]], "room-instructor-view"):
                view = await instructors_view(browser, room)
                rows = {name: view.locator(f"tr[data-attendee='{name}']") for name in names}
                # The view refreshes itself every few seconds: the order shows up stuck there.
                stuck = rows[stuck_one].locator("a", has_text=order)
                await stuck.wait_for(timeout=UI_SECONDS * 1000)
                assert "waits for a worker" in await stuck.inner_text()
                for name in names:
                    text = await rows[name].inner_text()
                    assert "up" in text and "01_first_order" in text, text
                    assert ("STUCK" in text) == (name == stuck_one), text
                    assert (f"01:0{DONE}" in text) == (name == finisher), text
                link = await stuck.get_attribute("href")
                assert link == f"/user/{stuck_one}/temporal/namespaces/default/workflows/{order}"
                await view.goto(room.url.rstrip("/") + link)
                authorize = view.get_by_role("button", name="Authorize")
                if await authorize.count():
                    await authorize.click()
                await view.get_by_text(order).first.wait_for(timeout=UI_SECONDS * 1000)


async def holds(address: str, namespace: str, workflow_id: str) -> bool:
    """True when `namespace` on the server at `address` has a workflow `workflow_id`."""
    client = await Client.connect(address, namespace=namespace)
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def test_a_room_on_a_shared_server_gives_each_attendee_a_namespace(
    dev_server: RunningServer,
) -> None:
    """The session's dev server stands in for a cluster: the room's attendees start none."""
    suffix = secrets.token_hex(2)
    cyd, dan = f"cyd-{suffix}", f"dan-{suffix}"
    address = dev_server.address
    with running_room(TEMPORAL_ADDRESS=address) as room:
        async with chromium() as browser:
            pages = {cyd: await new_attendee_page(browser), dan: await new_attendee_page(browser)}
            await asyncio.gather(*(log_in(pages[name], room, name) for name in pages))
            orders = dict(
                zip(
                    pages,
                    await asyncio.gather(
                        *(run_first_order(page, name) for name, page in pages.items())
                    ),
                )
            )
        for name, other in ((cyd, dan), (dan, cyd)):
            assert await holds(address, namespace_of(name), orders[name])
            assert not await holds(address, namespace_of(name), orders[other])
        for order in orders.values():
            assert not await holds(address, "default", order)
