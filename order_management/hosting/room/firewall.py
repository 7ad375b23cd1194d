"""An attendee's dev server ports, closed to the other attendees (iptables, where installed).

A dev server listens on 127.0.0.1 with no authentication, and loopback is shared by every
user of the machine: without this, any attendee could list or signal another's workflows with
`temporal workflow list --address 127.0.0.1:<their port>`. One rule per attendee rejects a
connection to their gRPC and Web UI ports unless it comes from them or from root. Their own
Jupyter server (the Web UI's proxy) and kernels run as them, so nothing of theirs changes.

Not covered: the few internal ports each dev server picks at random. For attendees who must
not reach each other at all, use one container per attendee (Zero to JupyterHub).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess

from order_management.errors import WorkshopError
from order_management.hosting.room.attendees import Attendee
from order_management.hosting.room.settings import RoomSettings
from order_management.local.config import UI_PORT_OFFSET


class FirewallError(WorkshopError, RuntimeError):
    """iptables refused a rule; the message has its words."""


def available() -> bool:
    return shutil.which("iptables") is not None


def close_ports(settings: RoomSettings, attendee: Attendee) -> None:
    """Reject other users' connections to the attendee's ports (once: the rule is kept)."""
    rule = _rule(settings, attendee)
    if subprocess.run(["iptables", "-C", *rule], capture_output=True).returncode != 0:
        _iptables(["-A", *rule])


def open_all(settings: RoomSettings) -> None:
    """Remove every rule this room added (when it stops)."""
    if not available():
        return
    listing = subprocess.run(["iptables", "-S", "OUTPUT"], capture_output=True, text=True)
    for line in listing.stdout.splitlines():
        words = shlex.split(line)
        if words[:1] == ["-A"] and _comment(settings) in words:
            _iptables(["-D", *words[1:]])


def _rule(settings: RoomSettings, attendee: Attendee) -> list[str]:
    ports = f"{attendee.temporal_port},{attendee.temporal_port + UI_PORT_OFFSET}"
    return [
        "OUTPUT",
        "-o",
        "lo",
        "-p",
        "tcp",
        "-m",
        "multiport",
        "--dports",
        ports,
        "-m",
        "owner",
        "!",
        "--uid-owner",
        "0",
        "-m",
        "owner",
        "!",
        "--uid-owner",
        str(attendee.uid),
        "-m",
        "comment",
        "--comment",
        _comment(settings),
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset",
    ]


def _comment(settings: RoomSettings) -> str:
    # Names the room, so that stopping one room leaves another's rules alone.
    return f"order-management room {settings.room_dir}"


def _iptables(arguments: list[str]) -> None:
    result = subprocess.run(["iptables", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise FirewallError(f"iptables {' '.join(arguments)}: {result.stderr.strip()}")
