"""What `make lab` installs: the locked versions of what the workshop runs, and no test tool.

`make setup`, the install step of `make lab`, builds a fresh virtual environment in a temporary
folder, exactly as on an attendee's machine. uv takes the packages from its cache, which this
suite's own `make test` filled, so that costs seconds and no download. What it installed is
then compared with uv.lock's set for this machine, version by version.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.markers import Marker

from tests.helpers.servers import BIN, REPO

# What `make test` adds and an attendee never needs. (pytest and pytest-asyncio are run-time
# dependencies: notebook 08 writes a test file and runs pytest on it.)
TEST_TOOLS = {"pytest-timeout", "hypothesis", "playwright"}
# In the venv, but not packages of the lock: the venv's own installer, uv, and the project.
NOT_LOCKED = {"pip", "setuptools", "uv", "order-management-workshop"}
# In the lock, but left out on purpose: see the Makefile's SYNC.
NOT_INSTALLED = {"rfc3987-syntax"}
INSTALL_SECONDS = 600


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(*extras: str) -> dict[str, str]:
    """Name -> version of each package uv.lock installs on this machine with `extras`."""
    command = [
        str(BIN / "uv"),
        "export",
        "--frozen",
        "--no-emit-project",
        "--no-hashes",
        "--no-header",
        "--no-annotate",
        *(f"--extra={extra}" for extra in extras),
    ]
    lines = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    packages = {}
    for line in lines:
        requirement, _, marker = line.partition(";")
        if requirement.strip() and (not marker or Marker(marker).evaluate()):
            name, version = requirement.split("==")
            packages[_canonical(name)] = version.strip()
    return packages


pytestmark = pytest.mark.skipif(
    not (BIN / "uv").exists(), reason="no uv beside this Python (`make setup` installs it)"
)


# Session scope, not module: under xdist a worker may run another module's test between two
# of these, and pytest would then tear a module fixture down and build the venv again.
@pytest.fixture(scope="session")
def lab_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment made by `make setup`, removed at the end (it is large)."""
    venv = tmp_path_factory.mktemp("install") / "venv"
    try:
        done = subprocess.run(
            ["make", "setup", f"VENV={venv}"],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield venv
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def installed(venv: Path) -> dict[str, str]:
    listing = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {_canonical(name): version for name, version in json.loads(listing).items()}


def test_make_lab_installs_the_locked_versions_and_no_test_tool(lab_venv: Path) -> None:
    packages = installed(lab_venv)
    assert not TEST_TOOLS & packages.keys()
    assert {name: version for name, version in packages.items() if name not in NOT_LOCKED} == {
        name: version for name, version in locked().items() if name not in NOT_INSTALLED
    }


def test_everything_the_workshop_runs_imports_without_the_test_tools(lab_venv: Path) -> None:
    # Every module of the package, as notebooks, scripts and Jupyter load them; not the room's,
    # which JupyterHub loads, with the `room` extra (tests/integration/test_room.py).
    every_module = (
        "import importlib, pkgutil, order_management; "
        "[importlib.import_module(module.name) for module in "
        "pkgutil.walk_packages(order_management.__path__, 'order_management.') "
        "if not module.name.startswith('order_management.hosting.room')]"
    )
    done = subprocess.run(
        [str(lab_venv / "bin" / "python"), "-c", every_module], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_test_tools_come_with_make_test() -> None:
    assert TEST_TOOLS <= locked("test").keys() - locked().keys()


def test_make_lab_installs_the_workshops_jupyter_config(lab_venv: Path) -> None:
    # Every Jupyter server started from the venv loads the extension; JupyterLab asks no news.
    assert (lab_venv / "etc/jupyter/jupyter_server_config.d/order_management.json").exists()
    assert (
        lab_venv / "share/jupyter/lab/settings/overrides.d/order-management-workshop.json"
    ).exists()
