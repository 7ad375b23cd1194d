"""Room settings: what the instructor may change, read from ROOM_* environment variables.

Only the standard library here: `make room` runs this with the system's Python, before the
room's environment exists.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from order_management.errors import WorkshopError

# An attendee's system user is `jupyter-<name>`: 8 + 20 characters stays under Linux's 32.
# The name also goes into paths, URLs and a Temporal namespace, whose names (on Temporal
# Cloud) are lower-case letters, digits and hyphens, ending with a letter or digit.
NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?\Z"
SYSTEM_USER_PREFIX = "jupyter-"
NAMESPACE_PREFIX = "workshop-"
DEFAULT_ROOM_DIR = Path("/opt/order-management-room")


class SettingsError(WorkshopError, ValueError):
    """A ROOM_* variable has a value the room cannot use; the message names it."""


@dataclass(frozen=True)
class RoomSettings:
    """Where the room lives and how it is reached."""

    room_dir: Path
    """The hub's state and the notebooks' master copy."""
    environment: Path
    """The shared environment: Python, the workshop, JupyterHub, configurable-http-proxy."""
    ip: str
    port: int
    """The address attendees open; the hub's API, the proxy's and the instructor's view take the
    next three ports."""
    instructor: str
    idle_minutes: int
    port_base: int
    """An attendee's dev server listens on port_base + (their uid's offset): see attendees."""
    namespace_suffix: str
    """Temporal Cloud's namespace ids end in the account's suffix (`.a1b2c`)."""

    @property
    def notebooks(self) -> Path:
        """The notebooks every new attendee gets a copy of."""
        return self.room_dir / "notebooks"

    @property
    def state_dir(self) -> Path:
        """The hub's database, cookie secret, pid files and log: root's alone."""
        return self.room_dir / "hub"

    @property
    def hub_port(self) -> int:
        return self.port + 1

    @property
    def proxy_api_port(self) -> int:
        return self.port + 2

    @property
    def dashboard_port(self) -> int:
        """The instructor's view (a hub service, reached through the hub's proxy)."""
        return self.port + 3

    def namespace(self, name: str) -> str:
        """The attendee's namespace on the room's shared Temporal server."""
        return namespace_of(name) + self.namespace_suffix

    @property
    def url(self) -> str:
        # On every interface: the address attendees use is this machine's name.
        host = socket.gethostname() if self.ip in ("", "0.0.0.0") else self.ip
        return f"http://{host}:{self.port}/"


def room_settings() -> RoomSettings:
    env = os.environ
    return RoomSettings(
        room_dir=Path(env.get("ROOM_DIR") or DEFAULT_ROOM_DIR),
        environment=Path(env.get("ROOM_ENV") or DEFAULT_ROOM_DIR / "env"),
        ip=env.get("ROOM_IP", "0.0.0.0"),
        port=_whole_number("ROOM_PORT", 8000),
        instructor=env.get("ROOM_INSTRUCTOR") or "instructor",
        idle_minutes=_whole_number("ROOM_IDLE_MINUTES", 60),
        port_base=_whole_number("ROOM_PORT_BASE", 13000),
        namespace_suffix=env.get("ROOM_NAMESPACE_SUFFIX", ""),
    )


def _whole_number(variable: str, default: int) -> int:
    value = os.environ.get(variable) or str(default)
    if not value.isdigit() or int(value) == 0:
        raise SettingsError(f"{variable} must be a whole number above 0, not {value!r}")
    return int(value)


def system_user(name: str) -> str:
    """The system user of the hub user `name`, as The Littlest JupyterHub names them."""
    return SYSTEM_USER_PREFIX + name


def namespace_of(name: str) -> str:
    """The name of the attendee's Temporal namespace (never `default`, whatever theirs)."""
    return NAMESPACE_PREFIX + name
