"""Security: nothing the workshop starts is reachable from the network, JupyterLab asks for
its token, and no credential ever lands in the repository or a notebook.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from order_management.local import config, devserver
from tests.helpers.servers import REPO, RunningServer, free_port

LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"

# Shapes of real secrets: a Temporal Cloud API key is a JWT; the rest are the usual suspects.
SECRET_PATTERNS = {
    "JWT / Temporal Cloud API key": re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "assigned API key or token": re.compile(
        r"(?i)(api[_-]?key|secret|token|password)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9_\-./+]{20,}"
    ),
}


# -- the dev server ------------------------------------------------------------------------


def _listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address in /proc hex, port) of every TCP socket `pid` listens on, IPv4 and IPv6."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == LISTEN and inode in inodes:
                address, port = local.split(":")
                found.append((address, int(port, 16)))
    return found


def _non_loopback_address() -> str | None:
    """An address of this machine that other machines could reach, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))  # a UDP connect sends no packet
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_dev_server_listens_on_loopback_only(dev_server: RunningServer) -> None:
    server = devserver.running(dev_server.port)
    assert server is not None
    ui_port = dev_server.port + config.UI_PORT_OFFSET
    deadline = time.monotonic() + 15  # the Web UI comes up a moment after gRPC
    while not devserver.port_answers(ui_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    sockets = _listening_sockets(server.pid)
    ports = {port for _, port in sockets}
    # gRPC and the Web UI at least (the server also opens internal ports).
    assert {dev_server.port, ui_port} <= ports, sockets
    assert all(address == LOOPBACK_V4 for address, _ in sockets), sockets


def test_dev_server_refuses_connections_on_the_network_address(dev_server: RunningServer) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    for port in (dev_server.port, dev_server.port + config.UI_PORT_OFFSET):
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


# -- JupyterLab ------------------------------------------------------------------------------


def _lab_command() -> list[str]:
    """The `jupyter lab` command exactly as `make lab` runs it."""
    dry_run = subprocess.run(
        ["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True, timeout=30, check=True
    )
    lines = [line for line in dry_run.stdout.splitlines() if re.search(r"jupyter\S* lab\b", line)]
    assert len(lines) == 1, dry_run.stdout
    return shlex.split(lines[0])


def test_make_lab_does_not_switch_token_authentication_off() -> None:
    command = " ".join(_lab_command())
    for weakening in (
        "token=",
        "password=",
        "disable_check_xsrf",
        "allow_origin",
        "--ip=0.0.0.0",
        "--ip 0.0.0.0",
        "allow_remote_access",
    ):
        assert weakening not in command, command
    configs = [
        path
        for pattern in ("jupyter_*config.py", "jupyter_*config.json")
        for path in REPO.rglob(pattern)
        if ".venv" not in path.parts
    ]
    assert configs == [], "a Jupyter config in the repo could weaken authentication"


def test_jupyterlab_started_like_make_lab_refuses_requests_without_the_token(
    tmp_path: Path,
) -> None:
    port = free_port()
    config_dir = tmp_path / "jupyter-config"  # none of this machine's personal settings
    config_dir.mkdir()
    # A Temporal address and state of its own: the Jupyter server starts its dev server there
    # (and may restart one it finds), never the session's.
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "TEMPORAL_ADDRESS": f"localhost:{free_port()}",
        "ORDER_STATE_DIR": str(tmp_path),
    }
    command = [*_lab_command(), "--no-browser", f"--port={port}", "--ServerApp.port_retries=0"]
    command[0] = str(REPO / command[0]) if not os.path.isabs(command[0]) else command[0]
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        lab = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        token = _wait_for_token(lab, log, port)
        assert _status(port, "/api/contents") == 403
        assert _status(port, "/api/contents?token=wrong") == 403
        assert _status(port, f"/api/contents?token={token}") == 200
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait(timeout=10)


def _wait_for_token(lab: subprocess.Popen, log: Path, port: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(
            rf"http://(?:localhost|127\.0\.0\.1):{port}/\S*\?token=(\w+)",
            log.read_text(errors="replace"),
        )
        if found:
            return found.group(1)
        assert lab.poll() is None, f"jupyter lab exited: {log.read_text(errors='replace')[-2000:]}"
        time.sleep(0.2)
    raise AssertionError(f"jupyter lab printed no token URL within {timeout:g} s; see {log}")


def _status(port: int, path: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


# -- credentials -----------------------------------------------------------------------------


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=30,
    )
    return [REPO / name for name in listed.stdout.decode().split("\0") if name]


def test_no_credential_is_committed() -> None:
    leaks = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        leaks += [
            f"{path.relative_to(REPO)}: {kind}"
            for kind, pattern in SECRET_PATTERNS.items()
            if pattern.search(text)
        ]
    assert leaks == []


def test_notebooks_carry_no_outputs_that_could_hold_a_secret() -> None:
    for notebook in sorted((REPO / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        cells = json.loads(notebook.read_text())["cells"]
        outputs = [cell.get("outputs") for cell in cells if cell["cell_type"] == "code"]
        assert all(not output for output in outputs), f"{notebook.name} has outputs"


def test_api_key_is_read_from_the_environment_or_a_profile_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-" + "x" * 24
    monkeypatch.setenv("TEMPORAL_ADDRESS", "example.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_API_KEY", secret)
    assert config.temporal_settings().connect_options.get("api_key") == secret

    monkeypatch.delenv("TEMPORAL_API_KEY")
    profile = tmp_path / "temporal.toml"
    profile.write_text(
        f'[profile.cloud]\naddress = "example.tmprl.cloud:7233"\napi_key = "{secret}"\n'
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(profile))
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")
    monkeypatch.delenv("TEMPORAL_ADDRESS")
    assert config.temporal_settings().connect_options.get("api_key") == secret

    # The package never names a key itself: only envconfig (inside config.py) hands it over.
    mentions = [
        path.name
        for path in (REPO / "order_management").glob("*.py")
        if re.search(r"(?i)api[_-]?key", path.read_text())
    ]
    assert set(mentions) <= {"config.py"}, mentions


def test_scripts_never_print_the_api_key(tmp_path: Path) -> None:
    secret = "sk-test-" + "y" * 24
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"localhost:{free_port()}",
        "TEMPORAL_API_KEY": secret,
        "ORDER_STATE_DIR": str(tmp_path),
    }
    for args in (
        ["-m", "order_management.starter", "500"],
        ["-m", "order_management.local.devserver", "status"],
    ):
        done = subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert secret not in done.stdout + done.stderr, args
        assert done.returncode != 0  # nothing answers there: it said so, without the key
