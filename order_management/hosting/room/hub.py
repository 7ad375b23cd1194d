"""Starting and stopping the room's hub: start, stop, status, remove.

`python3 -m order_management.hosting.room.environment <command>` runs these inside the room's
environment (`make room` is `start`, `make room-stop` is `stop`). `start` asks for the
passwords unless ROOM_PASSWORD and ROOM_INSTRUCTOR_PASSWORD are set, starts JupyterHub in the
background with its log in `ROOM_DIR/hub/hub.log`, and returns once the hub answers.
`stop` ends the hub (which stops the attendees' servers and the proxy), then sweeps whatever
is left: every process the hub had started and every process of an attendee.
`remove` deletes the attendees' users and homes and the hub's database, for a new group.
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from order_management.errors import WorkshopError
from order_management.hosting.room import firewall, processes
from order_management.hosting.room.attendees import remove_attendees, roster_uids
from order_management.hosting.room.settings import (
    NAME_PATTERN,
    RoomSettings,
    SettingsError,
    room_settings,
)

CONFIG_FILE = Path(__file__).with_name("jupyterhub_config.py")
START_SECONDS = 60.0
# The hub stops the attendees' servers in parallel, each within about 15 s (SIGINT, SIGTERM).
STOP_SECONDS = 45.0
# JupyterHub's own minimums for the shared-password authenticator.
ATTENDEE_PASSWORD_LENGTH = 8
INSTRUCTOR_PASSWORD_LENGTH = 32


class RoomError(WorkshopError, RuntimeError):
    """The room cannot do what was asked; the message says what to do instead."""


def hub_pid(settings: RoomSettings) -> int | None:
    """The running hub's pid, from the pid file JupyterHub keeps."""
    try:
        pid = int((settings.state_dir / "hub.pid").read_text())
    except (OSError, ValueError):
        return None
    try:
        alive = b"jupyterhub" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if alive else None


def start(settings: RoomSettings) -> None:
    if not re.match(NAME_PATTERN, settings.instructor):
        raise RoomError(
            f"ROOM_INSTRUCTOR={settings.instructor!r}: up to 20 lower-case "
            "letters, digits and hyphens, from a letter to a letter or digit, "
            "please"
        )
    if hub_pid(settings):
        print(f"The room is already open at {settings.url}")
        return
    attendees, instructor = _attendee_password(), _instructor_password()
    if attendees == instructor:
        raise RoomError("The instructor's password must differ from the attendees' one.")
    log = settings.state_dir / "hub.log"
    with open(log, "ab") as output:
        hub = subprocess.Popen(
            [str(settings.environment / "bin" / "jupyterhub"), "-f", str(CONFIG_FILE)],
            env={**os.environ, "ROOM_PASSWORD": attendees, "ROOM_INSTRUCTOR_PASSWORD": instructor},
            cwd=settings.state_dir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_until_answering(settings, hub, log)
    print(
        f"The room is open at {settings.url}\n"
        f"  Attendees log in with a name of their choice and the workshop password;\n"
        f"  the instructor as {settings.instructor!r}, with the instructor's password "
        f"(admin page: {settings.url}hub/admin).\n"
        f"  Hub log: {log}. Stop everything with `make room-stop`."
    )


def _attendee_password() -> str:
    password = os.environ.get("ROOM_PASSWORD") or _ask("Workshop password for attendees")
    if len(password) < ATTENDEE_PASSWORD_LENGTH:
        raise RoomError(
            f"The workshop password needs at least {ATTENDEE_PASSWORD_LENGTH} characters."
        )
    return password


def _instructor_password() -> str:
    password = os.environ.get("ROOM_INSTRUCTOR_PASSWORD")
    if password is None:
        password = _ask(
            f"Instructor's password ({INSTRUCTOR_PASSWORD_LENGTH}+ characters; "
            "Enter to have one made)"
        )
        if not password:
            password = _made_up()
            print(f"The instructor's password (shown once, write it down): {password}")
    if len(password) < INSTRUCTOR_PASSWORD_LENGTH:
        raise RoomError(
            f"The instructor's password needs at least "
            f"{INSTRUCTOR_PASSWORD_LENGTH} characters (JupyterHub's rule for "
            "admins)."
        )
    return password


def _made_up() -> str:
    # base64: 4 characters for every 3 bytes
    return secrets.token_urlsafe(INSTRUCTOR_PASSWORD_LENGTH * 3 // 4)


def _ask(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise RoomError(
            f"{prompt}: none given. Set ROOM_PASSWORD and "
            "ROOM_INSTRUCTOR_PASSWORD, or run `make room` in a terminal."
        )
    return getpass.getpass(f"{prompt}: ")


def _wait_until_answering(settings: RoomSettings, hub: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not _answers(f"{settings.url}hub/api"):
        if hub.poll() is not None or time.monotonic() > deadline:
            stop(settings)
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RoomError(
                "The hub did not start:\n  " + "\n  ".join(tail) + f"\nThe whole log: {log}"
            )
        time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


def stop(settings: RoomSettings) -> None:
    hub = hub_pid(settings)
    started = [hub, *processes.descendants(hub)] if hub else []
    if hub:
        os.kill(hub, signal.SIGTERM)  # the hub stops the servers, the culler, the proxy
        deadline = time.monotonic() + STOP_SECONDS
        while processes.alive(hub) and time.monotonic() < deadline:
            time.sleep(0.2)
    leftovers = [pid for pid in started if processes.alive(pid)]
    leftovers += processes.of_users(roster_uids(settings))
    processes.end(leftovers)
    firewall.open_all(settings)
    print(
        "The room is stopped."
        + (f" Ended {len(leftovers)} processes left behind." if leftovers else "")
    )


def status(settings: RoomSettings) -> None:
    pid = hub_pid(settings)
    uids = roster_uids(settings)
    state = f"open at {settings.url} (hub pid {pid})" if pid else "stopped"
    print(
        f"The room is {state}; {len(uids)} attendees, "
        f"{len(processes.of_users(uids))} processes of theirs."
    )


def remove(settings: RoomSettings) -> None:
    """Forget the session: the attendees' users and homes, and the hub's database."""
    if hub_pid(settings):
        raise RoomError("Stop the room first: `make room-stop`.")
    removed = remove_attendees(settings)
    (settings.state_dir / "jupyterhub.sqlite").unlink(missing_ok=True)
    print(f"Removed {len(removed)} attendees and their homes: {' '.join(removed) or '-'}")


COMMANDS = {"start": start, "stop": stop, "status": status, "remove": remove}


def main(arguments: list[str]) -> None:
    command = arguments[0] if arguments else "start"
    if command not in COMMANDS:
        sys.exit(
            "usage: python3 -m order_management.hosting.room.environment " + "|".join(COMMANDS)
        )
    try:
        COMMANDS[command](room_settings())
    except (RoomError, SettingsError, firewall.FirewallError) as err:
        sys.exit(str(err))
