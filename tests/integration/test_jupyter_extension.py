"""What the workshop's Jupyter server extension promises (order_management/hosting/jupyter.py),
with no browser: the dev server starts with Jupyter and stops with it, even when Jupyter is
killed; the proxied Web UI refuses a request without the token; JupyterLab opens on the
notebooks with no news toast."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from order_management.hosting.jupyter import web_ui_path
from order_management.local import devserver
from tests.helpers.lab import STOP_SECONDS, Lab, lab_api, running_lab, state_dir, stop_lab
from tests.helpers.servers import free_port


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


@pytest.mark.parametrize(
    "credentials", [{}, {"Authorization": "token not-the-token"}], ids=["no token", "wrong token"]
)
def test_the_proxied_web_ui_refuses_a_visitor_without_the_token(
    lab: Lab, credentials: dict[str, str]
) -> None:
    pages = ["/", "/namespaces/default/workflows", "/api/v1/namespaces/default/workflows"]
    for page in pages:
        status, location = _get_without_following(f"{lab.url}{lab.web_ui}{page}", credentials)
        assert (status, location.split("?")[0]) == (302, f"{lab.url}/login"), page
    status, _ = _get_without_following(
        f"{lab.url}{lab.web_ui}/", {"Authorization": f"token {lab.token}"}
    )
    assert status == 200


def test_jupyterlab_opens_on_the_notebooks_without_the_news_question(lab: Lab) -> None:
    listing = lab_api(lab, "api/contents")
    assert "00_setup.ipynb" in {item["name"] for item in listing["content"]}
    notification = lab_api(lab, "lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {
        name: spec["default"] for name, spec in notification["schema"]["properties"].items()
    }
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
    tmp_path: Path, ending: signal.Signals
) -> None:
    with running_lab(tmp_path) as lab:
        server = _lab_dev_server(lab)
        assert server is not None and server.ui_public_path == lab.web_ui
        assert devserver.port_answers(lab.temporal_port)
        lab.process.send_signal(ending)
        lab.process.wait(timeout=STOP_SECONDS)
        assert _wait_until_gone(lab, server.pid)


@contextmanager
def make_server(
    state: Path, port: int, ui_public_path: str | None
) -> Iterator[devserver.DevServer]:
    """A dev server started from a terminal, as `make server` does, stopped at the end."""
    with state_dir(state):
        server = devserver.start(port, ui_public_path=ui_public_path)
    try:
        yield server
    finally:
        with state_dir(state):
            devserver.stop(port)


def test_jupyter_reuses_the_dev_server_of_make_server_and_leaves_it_running(tmp_path: Path) -> None:
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
    tmp_path: Path,
) -> None:
    with running_lab(tmp_path) as lab, state_dir(lab.state), pytest.MonkeyPatch.context() as kernel:
        # What notebook 05's restart_dev_server does, with the environment Jupyter gives a kernel.
        kernel.setenv("TEMPORAL_UI_URL", lab.web_ui)
        devserver.stop(lab.temporal_port)
        restarted = devserver.start(lab.temporal_port)
        assert restarted.ui_public_path == lab.web_ui
        stop_lab(lab)
        assert _wait_until_gone(lab, restarted.pid)


async def test_a_jupyterlab_terminal_has_the_workshops_tools_first_on_path(lab: Lab) -> None:
    # As a learner opens one (File > New > Terminal): the REST call, then its websocket.
    terminal = lab_api(lab, "api/terminals", method="POST")
    assert isinstance(terminal, dict), "JupyterLab did not open a terminal"
    tools = Path(sys.executable).parent
    url = lab.url.replace("http://", "ws://")
    socket = await websocket_connect(
        f"{url}/terminals/websocket/{terminal['name']}?token={lab.token}"
    )
    try:
        # One command per `command -v`: POSIX sh (dash, Jupyter's shell when $SHELL is unset)
        # answers for its first name only. The shell computes the last line, so it is never
        # the terminal's echo of what was typed.
        socket.write_message(
            json.dumps(
                [
                    "stdin",
                    "echo FIRST=${PATH%%:*}; command -v temporal; command -v python;"
                    " echo DONE-$((6 * 7))\r",
                ]
            )
        )
        seen = ""
        deadline = time.monotonic() + 60
        while "DONE-42" not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"the terminal said:\n{seen}"
            try:
                message = await asyncio.wait_for(socket.read_message(), timeout=left)
            except TimeoutError:
                continue  # the assertion above reports what the terminal said
            assert message is not None, f"the terminal closed:\n{seen}"
            kind, *payload = json.loads(message)
            if kind == "stdout":
                seen += payload[0]
    finally:
        socket.close()
        lab_api(lab, f"api/terminals/{terminal['name']}", method="DELETE")
    assert f"FIRST={tools}\r\n" in seen, seen
    assert f"{tools / 'temporal'}\r\n" in seen, seen
    assert f"{tools / 'python'}\r\n" in seen, seen
