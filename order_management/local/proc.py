"""The workshop's background processes: started with their output in a log file, and seen
as Linux's /proc/<pid>/stat describes them (state and parent).

The dev server (`devserver`) and a worker process (`notebook/worker_process`) start so; the
dev server's liveness check and the room's sweep (`hosting/room/processes`) read the stat.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcStat:
    state: str
    """One letter: R running, S sleeping, Z zombie (ended, not yet reaped), ..."""
    parent: int


def start_logging_to(log: Path, command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Start `command` in the background, reading nothing, its output and errors appended to
    `log`. `options` go to `subprocess.Popen` (env, a session of its own, ...)."""
    with open(log, "ab") as log_file:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, **options
        )


def proc_stat(pid: int) -> ProcStat | None:
    """The state and parent of `pid`; None if it is gone (or there is no /proc). The second
    field, the command name in parentheses, may itself hold spaces and parentheses, so the
    fields that follow are split after the last ")"."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return ProcStat(state=fields[0], parent=int(fields[1]))
    except (OSError, IndexError, ValueError):
        return None
