"""Attendees as system users: created on first login, each with a private home and ports.

As in The Littlest JupyterHub, the hub user `alice` runs as the system user `jupyter-alice`,
created the first time she logs in. Her home is hers alone (0700: Debian's `useradd` makes it
world-readable), and holds a fresh copy of the notebooks and her dev server's SQLite file.

Her dev server needs ports no one else takes, also after a hub restart: they follow from her
uid, gRPC at `port_base + offset`, the Web UI 1000 above it (`config.UI_PORT_OFFSET`), the
HTTP API 2000 above and the metrics endpoint 3000 above, so that the firewall can close them
all before the server starts.
Every user the room creates is listed in the hub's state folder, so that stopping the room
sweeps their processes and `remove` deletes exactly them.
"""

from __future__ import annotations

import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from order_management.errors import WorkshopError
from order_management.hosting.room.settings import RoomSettings, system_user
from order_management.local.config import UI_PORT_OFFSET

# Offsets must stay below the UI offset, or one attendee's gRPC port would be another's UI.
MAX_ATTENDEES = UI_PORT_OFFSET
ROSTER = "attendees.txt"


class AttendeeError(WorkshopError, RuntimeError):
    """An attendee's system user cannot be created or given ports; the message says why."""


@dataclass(frozen=True)
class Attendee:
    """A system user of the room, as its spawner needs it."""

    system_name: str
    uid: int
    gid: int
    home: Path
    temporal_port: int

    @property
    def state_dir(self) -> Path:
        """The attendee's dev server database and ledger."""
        return self.home / ".temporal"

    @property
    def notebooks(self) -> Path:
        return self.home / "notebooks"

    @property
    def http_port(self) -> int:
        """The dev server's HTTP API (the same API as gRPC, as JSON)."""
        return self.temporal_port + 2 * UI_PORT_OFFSET

    @property
    def metrics_port(self) -> int:
        """The dev server's Prometheus `/metrics` endpoint."""
        return self.temporal_port + 3 * UI_PORT_OFFSET

    @property
    def ports(self) -> tuple[int, ...]:
        """Every fixed port of the attendee's dev server: gRPC, Web UI, HTTP API, metrics."""
        ui = self.temporal_port + UI_PORT_OFFSET
        return (self.temporal_port, ui, self.http_port, self.metrics_port)


def ensure_attendee(settings: RoomSettings, name: str) -> Attendee:
    """The attendee `name`, created with a private home and the notebooks if new."""
    system_name = system_user(name)
    try:
        entry = pwd.getpwnam(system_name)
    except KeyError:
        entry = _create_user(settings, system_name)
    attendee = Attendee(
        system_name=system_name,
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        home=Path(entry.pw_dir),
        temporal_port=port_of(settings, system_name),
    )
    if not attendee.notebooks.exists():
        _copy_notebooks(settings, attendee)
    return attendee


def port_of(settings: RoomSettings, system_name: str) -> int:
    """The gRPC port of an existing attendee's dev server."""
    return settings.port_base + _offset(pwd.getpwnam(system_name).pw_uid)


def _create_user(settings: RoomSettings, system_name: str) -> pwd.struct_passwd:
    _run(
        [
            "useradd",
            "--create-home",
            "--shell",
            "/bin/bash",
            "--comment",
            "workshop room attendee",
            system_name,
        ]
    )
    with open(settings.state_dir / ROSTER, "a") as roster:
        roster.write(system_name + "\n")
    entry = pwd.getpwnam(system_name)
    Path(entry.pw_dir).chmod(0o700)
    return entry


def _offset(uid: int) -> int:
    offset = uid - _first_regular_uid()
    if not 0 <= offset < MAX_ATTENDEES:
        raise AttendeeError(
            f"uid {uid} is outside the {MAX_ATTENDEES} uids above the first "
            f"regular one, so it has no Temporal port block"
        )
    return offset


def _first_regular_uid() -> int:
    """UID_MIN from /etc/login.defs: where `useradd` starts numbering regular users."""
    try:
        for line in Path("/etc/login.defs").read_text().splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[0] == "UID_MIN":
                return int(fields[1])
    except (OSError, ValueError):
        pass
    return 1000


def _copy_notebooks(settings: RoomSettings, attendee: Attendee) -> None:
    shutil.copytree(settings.notebooks, attendee.notebooks)
    _run(["chown", "-R", f"{attendee.uid}:{attendee.gid}", str(attendee.notebooks)])


def roster(settings: RoomSettings) -> list[str]:
    """The system users this room created (and has not removed)."""
    try:
        names = (settings.state_dir / ROSTER).read_text().split()
    except FileNotFoundError:
        return []
    return [name for name in dict.fromkeys(names) if _exists(name)]


def roster_uids(settings: RoomSettings) -> set[int]:
    return {pwd.getpwnam(name).pw_uid for name in roster(settings)}


def remove_attendees(settings: RoomSettings) -> list[str]:
    """Delete the room's system users with their homes (the room must be stopped)."""
    removed = roster(settings)
    for name in removed:
        _run(["userdel", "--remove", name])
    (settings.state_dir / ROSTER).unlink(missing_ok=True)
    return removed


def _exists(system_name: str) -> bool:
    try:
        pwd.getpwnam(system_name)
    except KeyError:
        return False
    return True


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise AttendeeError(f"`{' '.join(command)}` failed: {result.stderr.strip()}")
