"""What a room leaves running, found in /proc and ended.

A single-user server's stop does not end what its user started: a kernel, a worker process,
a dev server started from a terminal all outlive it (and the hub does not even call the
spawner's stop when the server died on its own). So the room sweeps by owner: every process
of the attendee's uid, and when the room stops, every process the hub started (the proxy,
the idle culler, the attendees' servers) and all that they started.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

from order_management.local.proc import proc_stat

GRACE_SECONDS = 5.0


def of_users(uids: set[int]) -> list[int]:
    """Processes whose real uid is one of `uids`."""
    return [pid for pid in _pids() if _uid(pid) in uids and alive(pid)]


def descendants(pid: int) -> list[int]:
    """The children of `pid`, their children, and so on."""
    children: dict[int, list[int]] = {}
    for child in _pids():
        children.setdefault(_parent(child), []).append(child)
    found, queue = [], [pid]
    while queue:
        kids = children.get(queue.pop(), [])
        found += kids
        queue += kids
    return found


def end(pids: Iterable[int], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM, then SIGKILL whatever still runs after `grace` seconds."""
    spared = _self_and_ancestors()
    pids = [pid for pid in pids if pid not in spared]
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = [pid for pid in pids if alive(pid)]
    _signal(pids, signal.SIGKILL)


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _self_and_ancestors() -> set[int]:
    # Never the sweeper itself, nor `make room-stop` and its shell.
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        pid = _parent(pid)
    return pids


def _parent(pid: int) -> int:
    stat = proc_stat(pid)
    return stat.parent if stat else 0


def _uid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:  # gone meanwhile
        return None
    return None


def alive(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat.state != "Z"


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
