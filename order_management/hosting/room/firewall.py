"""Every port an attendee listens on, closed to the other attendees (iptables, where installed).

A dev server listens on 127.0.0.1 with no authentication, and loopback is shared by every
user of the machine: without this, any attendee could list or signal another's workflows with
`temporal workflow list --address 127.0.0.1:<their port>`, or through its HTTP API. Two kinds
of rules reject a connection unless it comes from the port's owner or from root (the hub and
its proxy run as root, so the Web UI through the proxy still works):

- the attendee's block, before their server starts: the dev server's gRPC, Web UI, HTTP API and
  metrics ports (see attendees);
- the ports they listen on outside it, found in /proc/net/tcp while their server runs: the
  three internal ports a dev server picks at random (its history, matching and worker
  services), their kernels' and their Jupyter server's. `close_listening` adds these and
  removes the ones its owner no longer holds, so that a port freed and taken by someone else
  is theirs to use.

Not covered: IPv6 loopback (nothing of the workshop listens there). For attendees who must
not see each other at all, use one container per attendee (Zero to JupyterHub).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from order_management.errors import WorkshopError
from order_management.hosting.room.attendees import Attendee
from order_management.hosting.room.settings import RoomSettings

LISTEN = "0A"  # the state column of /proc/net/tcp
LOOPBACK_OR_ANY = ("0100007F", "00000000")  # 127.0.0.1 and 0.0.0.0, as the kernel writes them


class FirewallError(WorkshopError, RuntimeError):
    """iptables refused a rule; the message has its words."""


def available() -> bool:
    return shutil.which("iptables") is not None


def close_ports(settings: RoomSettings, attendee: Attendee) -> None:
    """Reject other users' connections to the attendee's block (once: the rule is kept)."""
    _ensure(_rule(settings, attendee, ",".join(map(str, attendee.ports)), "block"))


def close_listening(settings: RoomSettings, attendee: Attendee) -> None:
    """Close each port the attendee listens on outside their block; reopen what they left."""
    held = listening_ports(attendee.uid) - set(attendee.ports)
    for words in _room_rules(settings, _listener(settings, attendee)):
        if int(words[words.index("--dport") + 1]) not in held:
            _iptables(["-D", *words[1:]])
    for port in sorted(held):
        _ensure(_rule(settings, attendee, str(port), "listener"))


def reopen(settings: RoomSettings, attendee: Attendee) -> None:
    """Remove the rules of the ports the attendee listened on (their server has stopped)."""
    for words in _room_rules(settings, _listener(settings, attendee)):
        _iptables(["-D", *words[1:]])


def listening_ports(uid: int) -> set[int]:
    """The TCP ports that processes of `uid` listen on, on 127.0.0.1 or every address."""
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port = fields[1].split(":")
        if fields[3] == LISTEN and address in LOOPBACK_OR_ANY and int(fields[7]) == uid:
            ports.add(int(port, 16))
    return ports


def open_all(settings: RoomSettings) -> None:
    """Remove every rule this room added (when it stops)."""
    if not available():
        return
    for words in _room_rules(settings, _comment(settings)):
        _iptables(["-D", *words[1:]])


def _ensure(rule: list[str]) -> None:
    if subprocess.run(["iptables", "-w", "-C", *rule], capture_output=True).returncode != 0:
        _iptables(["-A", *rule])


def _room_rules(settings: RoomSettings, comment: str) -> list[list[str]]:
    """The rules in OUTPUT whose comment starts with `comment`, as `iptables -S` words."""
    listing = subprocess.run(["iptables", "-w", "-S", "OUTPUT"], capture_output=True, text=True)
    rules = [shlex.split(line) for line in listing.stdout.splitlines()]
    return [
        words
        for words in rules
        if words[:1] == ["-A"]
        and "--comment" in words
        and (words[words.index("--comment") + 1] + " ").startswith(comment + " ")
    ]


def _rule(settings: RoomSettings, attendee: Attendee, ports: str, kind: str) -> list[str]:
    match = ["-m", "multiport", "--dports", ports] if "," in ports else ["--dport", ports]
    return [
        "OUTPUT",
        "-o",
        "lo",
        "-p",
        "tcp",
        *match,
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
        f"{_comment(settings)} {kind} {attendee.uid}",
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset",
    ]


def _listener(settings: RoomSettings, attendee: Attendee) -> str:
    return f"{_comment(settings)} listener {attendee.uid}"


def _comment(settings: RoomSettings) -> str:
    # Names the room, so that stopping one room leaves another's rules alone.
    return f"order-management room {settings.room_dir}"


def _iptables(arguments: list[str]) -> None:
    result = subprocess.run(["iptables", "-w", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise FirewallError(f"iptables {' '.join(arguments)}: {result.stderr.strip()}")
