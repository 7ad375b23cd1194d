"""The room's pieces that need no root, npm or browser: its settings, the firewall rule that
keeps attendees off each other's dev servers, and the process sweep that `make room-stop` and
a stopped server rely on. The whole room runs in tests/integration/test_room.py (as root).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import pytest

from order_management.hosting.room import firewall, processes
from order_management.hosting.room.attendees import Attendee
from order_management.hosting.room.settings import (
    DEFAULT_ROOM_DIR,
    RoomSettings,
    SettingsError,
    room_settings,
    system_user,
)

SWEEP_SECONDS = 10.0


@pytest.fixture
def room_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ROOM_* variable set: each test sets the ones it is about."""
    for variable in (
        "ROOM_DIR",
        "ROOM_ENV",
        "ROOM_IP",
        "ROOM_PORT",
        "ROOM_INSTRUCTOR",
        "ROOM_IDLE_MINUTES",
        "ROOM_PORT_BASE",
        "ROOM_NAMESPACE_SUFFIX",
    ):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_an_unconfigured_room_opens_on_port_8000_with_the_hub_and_proxy_on_the_next_two(
    room_environment: pytest.MonkeyPatch,
) -> None:
    settings = room_settings()
    assert (settings.port, settings.hub_port, settings.proxy_api_port) == (8000, 8001, 8002)
    assert (settings.room_dir, settings.environment) == (DEFAULT_ROOM_DIR, DEFAULT_ROOM_DIR / "env")
    assert (settings.instructor, settings.idle_minutes, settings.port_base) == (
        "instructor",
        60,
        13000,
    )
    assert settings.url == f"http://{socket.gethostname()}:8000/"  # on every interface


@pytest.mark.parametrize("variable", ["ROOM_PORT", "ROOM_IDLE_MINUTES", "ROOM_PORT_BASE"])
@pytest.mark.parametrize("value", ["eighty", "0", "-1", "80.5", " 80"])
def test_a_number_setting_that_is_no_whole_number_above_0_is_refused_by_name(
    room_environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    room_environment.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        room_settings()
    assert str(refused.value) == f"{variable} must be a whole number above 0, not {value!r}"


def test_an_attendee_gets_a_system_user_and_a_namespace_named_after_them(
    room_environment: pytest.MonkeyPatch,
) -> None:
    room_environment.setenv("ROOM_NAMESPACE_SUFFIX", ".a1b2c")
    room_environment.setenv("ROOM_IP", "127.0.0.1")
    settings = room_settings()
    assert system_user("ada") == "jupyter-ada"
    assert settings.namespace("ada") == "workshop-ada.a1b2c"
    assert settings.url == "http://127.0.0.1:8000/"


def _settings(room_dir: Path) -> RoomSettings:
    return RoomSettings(
        room_dir=room_dir,
        environment=room_dir / "env",
        ip="127.0.0.1",
        port=8000,
        instructor="instructor",
        idle_minutes=60,
        port_base=13000,
        namespace_suffix="",
    )


def test_the_firewall_rule_lets_only_the_attendee_and_root_reach_their_dev_server() -> None:
    ada = Attendee("jupyter-ada", uid=1234, gid=1234, home=Path("/home/ada"), temporal_port=13007)
    ports = ",".join(map(str, ada.ports))
    rule = " ".join(firewall._rule(_settings(Path("/opt/room-a")), ada, ports, "block"))
    assert rule.startswith("OUTPUT -o lo -p tcp ")  # connections on this machine
    # gRPC, the Web UI, the HTTP API and the metrics: every fixed port of her block.
    assert f"--dports {ports} " in rule and "13007" in ports and "14007" in ports
    assert "! --uid-owner 0 " in rule and "! --uid-owner 1234 " in rule
    assert rule.endswith("-j REJECT --reject-with tcp-reset")
    # A port that appears later (a kernel's, the dev server's internal ones) gets a rule too.
    listener = " ".join(firewall._rule(_settings(Path("/opt/room-a")), ada, "40001", "listener"))
    assert "--dport 40001 " in listener and "! --uid-owner 1234 " in listener
    # Each room's rules carry its name, so stopping one room leaves another's alone.
    other_room = " ".join(firewall._rule(_settings(Path("/opt/room-b")), ada, ports, "block"))
    assert "/opt/room-a" in rule and "/opt/room-b" in other_room


def _sleepers(shell: subprocess.Popen[bytes]) -> list[int]:
    """The shell's two `sleep` children, once both have started."""
    deadline = time.monotonic() + SWEEP_SECONDS
    # A child is listed from its fork, while it is still `sh`: wait until both run `sleep`.
    while len(found := [pid for pid in processes.descendants(shell.pid) if _runs_sleep(pid)]) < 2:
        assert time.monotonic() < deadline, "the shell did not start its two sleeps"
        time.sleep(0.05)
    return found


def _runs_sleep(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00600\x00"
    except OSError:  # gone meanwhile
        return False


def test_the_sweep_finds_what_a_process_started_and_ends_it_all() -> None:
    # A process group of its own, so that nothing of it can outlive the test.
    shell = subprocess.Popen(["sh", "-c", "sleep 600 & sleep 600 & wait"], start_new_session=True)
    try:
        sleepers = _sleepers(shell)
        for pid in sleepers:
            assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00600\x00"
        # This test's grandchildren too, and all of them processes of this user.
        assert {shell.pid, *sleepers} <= set(processes.descendants(os.getpid()))
        assert {shell.pid, *sleepers} <= set(processes.of_users({os.getuid()}))

        processes.end([shell.pid, *sleepers], grace=SWEEP_SECONDS)
        assert not processes.alive(shell.pid)  # ended; a zombie until this test reaps it
        shell.wait(timeout=SWEEP_SECONDS)
        deadline = time.monotonic() + SWEEP_SECONDS
        while any(processes.alive(pid) for pid in sleepers):  # orphans: init reaps them
            assert time.monotonic() < deadline, "a sleep outlived the sweep"
            time.sleep(0.05)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
