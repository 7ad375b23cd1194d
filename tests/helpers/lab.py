"""JupyterLab as `make lab` runs it, on free ports with a token, for the browser tests and the
Jupyter extension's tests."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from order_management.hosting.jupyter import web_ui_path
from order_management.local import devserver
from tests.helpers.servers import BIN, REPO, free_port

NOTEBOOKS = REPO / "notebooks"


# Generous: with the suite in parallel on a busy machine, JupyterLab took over 60 s to answer.
LAB_START_SECONDS = 180


STOP_SECONDS = 30


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
    lab = start_lab(root, state, home / "jupyter", port)
    try:
        yield lab
    finally:
        stop_lab(lab)
        with state_dir(state):
            if devserver.running(port) != before:
                devserver.stop(port)


@contextmanager
def state_dir(state: Path) -> Iterator[None]:
    """Where this process looks for dev server records (ORDER_STATE_DIR), for a while."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDER_STATE_DIR", str(state))
        yield


def start_lab(root: Path, state: Path, home: Path, temporal_port: int) -> Lab:
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
        str(BIN / "jupyter"),
        "lab",
        f"--notebook-dir={root}",
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    home.mkdir(parents=True, exist_ok=True)
    log = home / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    lab = Lab(
        url=f"http://127.0.0.1:{port}",
        token=token,
        temporal_port=temporal_port,
        state=state,
        process=process,
    )
    deadline = time.monotonic() + LAB_START_SECONDS
    while lab_api(lab, "api/status") is None:
        exited = process.poll()
        if exited is not None or time.monotonic() > deadline:
            stop_lab(lab)
            why = (
                f"exited with code {exited}"
                if exited is not None
                else f"did not answer within {LAB_START_SECONDS} s"
            )
            pytest.fail(
                f"JupyterLab at {lab.url} {why}:\n" + log.read_text(errors="replace")[-2000:]
            )
        time.sleep(0.2)
    return lab


def lab_api(lab: Lab, path: str, method: str = "GET") -> object | None:
    """A call to the Jupyter server's REST API, or None when it does not answer."""
    request = urllib.request.Request(
        f"{lab.url}/{path}", method=method, headers={"Authorization": f"token {lab.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
    except (urllib.error.URLError, OSError):
        return None
    return json.loads(body) if body else {}


def stop_lab(lab: Lab) -> None:
    # Shut the kernels down through the server first: it waits for each kernel process to end,
    # so no kernel (and no in-kernel worker) outlives the test.
    for kernel in lab_api(lab, "api/kernels") or []:
        lab_api(lab, f"api/kernels/{kernel['id']}", method="DELETE")
    lab.process.terminate()
    try:
        lab.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=5)
