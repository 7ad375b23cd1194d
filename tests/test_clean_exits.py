"""A dev server started for the tests or the benchmark dies with the process that started it,
even one killed outright (a CI timeout, `timeout make bench`): none is left running for good.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from order_management.local import devserver
from tests.helpers.servers import free_port

STARTER = """\
import sys
from order_management.local import devserver
server = devserver.start(int(sys.argv[1]), die_with_parent=True)
print(server.pid, flush=True)
sys.stdin.read()  # until killed
"""
GONE_WITHIN_SECONDS = 15.0


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie whose new parent never reaps it holds nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_server_started_to_die_with_its_starter_ends_when_the_starter_is_killed(
    tmp_path: Path,
) -> None:
    port = free_port()
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(port)],
        env=dict(os.environ, ORDER_STATE_DIR=str(tmp_path)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    server_pid = int(starter.stdout.readline())
    try:
        assert _running(server_pid) and devserver.port_answers(port)
        starter.kill()  # SIGKILL: no finally block, no atexit
        starter.wait()
        deadline = time.monotonic() + GONE_WITHIN_SECONDS
        while _running(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(server_pid), "the dev server outlived the process that started it"
    finally:
        if _running(server_pid):
            os.kill(server_pid, signal.SIGKILL)
