"""The room's environment: one Python environment every attendee runs and none can change.

    python3 -m order_management.hosting.room.environment start|stop|status|remove

This is what `make room` and `make room-stop` run, with a Python every user may execute
(`/usr/bin/python3`): a virtual environment made from a Python under /root (pyenv) cannot be
run by anyone else. `start` brings ROOM_ENV (owned by root, readable by all) to the exact
versions of uv.lock, as `make lab` installs them, plus JupyterHub (the `room` extra); installs
configurable-http-proxy from npm into it when none is on PATH; then runs the room's command
inside that environment. Only the standard library here: nothing else exists yet when it runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from order_management.errors import WorkshopError
from order_management.hosting.room.settings import RoomSettings, SettingsError, room_settings

PROJECT = Path(__file__).resolve().parents[3]
PROJECT_NAME = "order-management-workshop"  # pyproject.toml's [project] name
PROXY_PACKAGE = "configurable-http-proxy@5.3.0"
# jsonschema checks the "iri" format with rfc3987-syntax when it is installed, which builds a
# grammar as it is imported: a second of CPU in every Jupyter server's start, for a format
# none of the schemas Jupyter validates uses. The rest of uv.lock is installed as locked.
# `make lab` and `make test` skip it too (the Makefile's SYNC).
SKIPPED_PACKAGES = ["--no-install-package", "rfc3987-syntax"]


class RoomSetupError(WorkshopError, RuntimeError):
    """The room's environment cannot be built here; the message says what to do."""


def proxy_command(settings: RoomSettings) -> str:
    """configurable-http-proxy: the one on PATH, or the room's own from npm."""
    return shutil.which("configurable-http-proxy") or str(
        settings.environment / "node_modules" / ".bin" / "configurable-http-proxy"
    )


def build(settings: RoomSettings) -> None:
    """Bring the environment, the proxy and the notebooks' master copy up to date."""
    _check_machine()
    os.umask(0o022)  # everything below readable by attendees, writable by root only
    settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _install_workshop(settings.environment)
    _install_proxy(settings)
    shutil.rmtree(settings.notebooks, ignore_errors=True)
    shutil.copytree(
        PROJECT / "notebooks",
        settings.notebooks,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )


def _check_machine() -> None:
    if not sys.platform.startswith("linux"):
        raise RoomSetupError("A room runs on Linux (one system user per attendee).")
    if os.geteuid() != 0:
        raise RoomSetupError(
            "A room needs root: it creates a system user per attendee. Run `sudo make room`."
        )
    if sys.version_info < (3, 10):  # noqa: UP036  (ROOM_PYTHON may be any system Python)
        raise RoomSetupError(
            f"The room needs Python 3.10 or newer, not "
            f"{sys.version.split()[0]}; choose one with ROOM_PYTHON=..."
        )
    private = _first_private_folder(Path(sys.executable).resolve())
    if private:
        raise RoomSetupError(
            f"{sys.executable} is inside {private}, which other users cannot "
            "enter, so attendees could not run it. Choose a system Python: "
            "ROOM_PYTHON=/usr/bin/python3"
        )


def _first_private_folder(path: Path) -> Path | None:
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


def _install_workshop(environment: Path) -> None:
    uv = os.environ.get("ROOM_UV") or shutil.which("uv")
    if uv is None:
        raise RoomSetupError(
            "The room's environment is installed with uv: run `make room`, "
            "which brings it, or set ROOM_UV=/path/to/uv"
        )
    if not environment.exists():
        print(f"Installing the workshop into {environment} (a few minutes the first time)")
    settings = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(environment),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    # Not editable: the attendees' environment must not depend on where this checkout is
    # (it may be under /root) nor change when someone edits it. The workshop itself is
    # rebuilt every time (a few seconds): uv would not notice a change to its code. Exact:
    # what uv.lock (less SKIPPED_PACKAGES) lists, nothing left from an earlier room.
    _run(
        [
            uv,
            "sync",
            "--quiet",
            "--locked",
            "--no-editable",
            "--extra",
            "room",
            "--python",
            sys.executable,
            "--reinstall-package",
            PROJECT_NAME,
            # Attendees cannot write the environment, so without this every kernel and
            # Jupyter server of theirs compiles the packages it imports again, each time.
            "--compile-bytecode",
            *SKIPPED_PACKAGES,
        ],
        settings,
    )


def _install_proxy(settings: RoomSettings) -> None:
    if Path(proxy_command(settings)).exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RoomSetupError(
            "configurable-http-proxy comes from npm, which is missing: "
            "`apt-get install nodejs npm`, then `make room` again"
        )
    print(f"Installing {PROXY_PACKAGE} into {settings.environment}")
    _run(
        [
            npm,
            "install",
            "--prefix",
            str(settings.environment),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            PROXY_PACKAGE,
        ]
    )


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=PROJECT, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RoomSetupError(f"`{' '.join(command)}` failed (its output is above)")


def run_in_environment(settings: RoomSettings, arguments: list[str]) -> None:
    """Replace this process with the room's command, run by the room's Python."""
    python = settings.environment / "bin" / "python"
    # -I: the installed workshop, not this checkout, and no PYTHON* variables of root's.
    os.execv(python, [str(python), "-I", "-m", "order_management.hosting.room", *arguments])


def main(arguments: list[str]) -> None:
    command = arguments[0] if arguments else "start"
    try:
        settings = room_settings()
        if command == "start":
            build(settings)
        elif not (settings.environment / "bin" / "python").exists():
            print(f"No room in {settings.room_dir}.")
            return
    except (RoomSetupError, SettingsError) as err:
        sys.exit(str(err))
    run_in_environment(settings, [command, *arguments[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
