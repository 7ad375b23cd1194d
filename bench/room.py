"""A room's CPU: N attendees pressing Run All on notebook 01 at once (`make bench-room`).

    python -m bench.room [--attendees 10] [--python PATH] [--profile FILE] [--no-logins]

Each attendee gets what a room gives them: a dev server of their own (the workshop's
settings) and a kernel started and idle, from the room's shared environment when one exists
(`/opt/order-management-room/env`, byte-compiled as `make room` builds it) or this venv. The
code cells of `01_first_order.ipynb` are sent to each kernel in turn, as JupyterLab's Run All
does (each with its cell id, to a kernel told its notebook: the learner's progress is recorded),
stopping at an error. First one attendee alone, then N others all at the same instant.

Before that, logins: a Jupyter server of the same environment started with the workshop's
extension (which starts the attendee's dev server), alone and N at once, until it answers;
what a login costs besides the hub's own small share.

Printed: per attendee, the wall time of Run All and the CPU-seconds it cost (the kernel and
what it ran, such as the `temporal` CLI cells; the dev server apart), and the slowest of the N
against the one alone. CPU-seconds hardly move with the machine's load; the ratio does, so
run it on a quiet machine. `--profile FILE` writes a cProfile of the lone attendee's kernel
(its main thread) and prints where the time went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import write_connection_file

from order_management.hosting.room.settings import DEFAULT_ROOM_DIR
from order_management.local import devserver
from order_management.progress.record import SESSION_VARIABLE
from tests.helpers.notebooks import LAB_CELL_ID
from tests.helpers.servers import REPO, free_port

NOTEBOOK = "01_first_order.ipynb"
ROOM_PYTHON = DEFAULT_ROOM_DIR / "env" / "bin" / "python"
KERNEL_READY_SECONDS = 120
CELL_SECONDS = 300
RESULTS = Path(__file__).resolve().parent / "room-results.json"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Attendee:
    """One attendee's kernel and dev server."""

    name: str
    kernel: subprocess.Popen
    client: AsyncKernelClient
    server_pid: int


@dataclass(frozen=True)
class RunAll:
    """What one Run All cost one attendee."""

    seconds: float
    kernel_cpu: float
    server_cpu: float
    error: str | None
    kernel_mib: float
    server_mib: float


def pss_mib(pid: int) -> float:
    """A process's proportional share of memory (shared pages split among their users)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU-seconds of a process and of the children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / TICKS


@contextmanager
def attendee(name: str, python: Path, folder: Path) -> Iterator[Attendee]:
    """A dev server and an idle kernel of `name`'s own, in a folder with the notebooks."""
    home = folder / name
    shutil.copytree(REPO / "notebooks", home / "notebooks")
    state = home / ".temporal"
    port = free_port()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")},
        "TEMPORAL_ADDRESS": f"localhost:{port}",
        "ORDER_STATE_DIR": str(state),
        "ORDER_LEDGER_DB": str(state / "ledger.db"),
        # What Jupyter tells a kernel JupyterLab starts: its notebook (progress is recorded).
        SESSION_VARIABLE: str(home / "notebooks" / NOTEBOOK),
    }
    with state_in(state):
        server = devserver.start(port, die_with_parent=True)
    connection, _ = write_connection_file(str(home / "kernel.json"), ip="127.0.0.1")
    kernel = subprocess.Popen(
        [str(python), "-m", "ipykernel_launcher", "-f", connection],
        cwd=home / "notebooks",
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = AsyncKernelClient(connection_file=connection)
    client.load_connection_file()
    client.start_channels()
    try:
        yield Attendee(name, kernel, client, server.pid)
    finally:
        client.stop_channels()
        kernel.terminate()
        kernel.wait(10)
        with state_in(state):
            devserver.stop(port)


@contextmanager
def state_in(state: Path) -> Iterator[None]:
    """ORDER_STATE_DIR for this process meanwhile: where devserver keeps its pid file."""
    previous = os.environ.get("ORDER_STATE_DIR")
    os.environ["ORDER_STATE_DIR"] = str(state)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["ORDER_STATE_DIR"]
        else:
            os.environ["ORDER_STATE_DIR"] = previous


@dataclass(frozen=True)
class Login:
    """What starting one attendee's Jupyter server and dev server cost."""

    seconds: float
    jupyter_cpu: float
    server_cpu: float
    jupyter_mib: float


async def log_in(name: str, python: Path, folder: Path) -> Login:
    """Start a Jupyter server as a login does, wait until it answers, measure, stop it."""
    home = folder / f"login-{name}"
    (home / "notebooks").mkdir(parents=True)
    port, temporal_port = free_port(), free_port()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")},
        "HOME": str(home),
        "TEMPORAL_ADDRESS": f"localhost:{temporal_port}",
        "ORDER_STATE_DIR": str(home / ".temporal"),
        "JUPYTER_TOKEN": "bench",
    }
    began = time.monotonic()
    jupyter = subprocess.Popen(
        [str(python.parent / "jupyter-lab"), "--no-browser", f"--port={port}", "--allow-root"]
        + [f"--notebook-dir={home / 'notebooks'}"],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _answers(f"http://127.0.0.1:{port}/api/status?token=bench"):
            if jupyter.poll() is not None or time.monotonic() - began > KERNEL_READY_SECONDS:
                raise RuntimeError(f"the Jupyter server of {name} did not start")
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - began
        pid_file = home / ".temporal" / f"devserver-{temporal_port}.json"
        server_pid = json.loads(pid_file.read_text())["pid"]
        return Login(
            seconds, cpu_seconds(jupyter.pid), cpu_seconds(server_pid), pss_mib(jupyter.pid)
        )
    finally:
        jupyter.terminate()
        jupyter.wait(30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


Cell = tuple[str | None, str]
"""A code cell as JupyterLab sends it: its id (None for the benchmark's own) and its source."""


def code_cells() -> list[Cell]:
    notebook = nbformat.read(REPO / "notebooks" / NOTEBOOK, as_version=4)
    return [(cell.id, cell.source) for cell in notebook.cells if cell.cell_type == "code"]


async def execute(client: AsyncKernelClient, cell: Cell) -> str | None:
    """Run one cell, with its id as JupyterLab sends it; its error name and message, or None."""
    cell_id, code = cell
    client.session.metadata = {LAB_CELL_ID: cell_id} if cell_id else {}
    msg_id = client.execute(code, store_history=True)
    deadline = time.monotonic() + CELL_SECONDS
    while True:
        reply = await client.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            content = reply["content"]
            if content["status"] == "ok":
                return None
            return f"{content.get('ename')}: {content.get('evalue')}"[:200]


async def run_all(person: Attendee, cells: list[Cell], start: asyncio.Event) -> RunAll:
    await start.wait()
    kernel_before, server_before = cpu_seconds(person.kernel.pid), cpu_seconds(person.server_pid)
    began = time.monotonic()
    error = None
    for cell in cells:
        error = await execute(person.client, cell)
        if error:
            break
    return RunAll(
        seconds=time.monotonic() - began,
        kernel_cpu=cpu_seconds(person.kernel.pid) - kernel_before,
        server_cpu=cpu_seconds(person.server_pid) - server_before,
        error=error,
        kernel_mib=pss_mib(person.kernel.pid),
        server_mib=pss_mib(person.server_pid),
    )


async def ready(person: Attendee) -> None:
    """Wait until the kernel answers. jupyter_client takes a heartbeat missed while a loaded
    machine starts the kernel for its death: ask again while the process lives."""
    deadline = time.monotonic() + KERNEL_READY_SECONDS
    while True:
        try:
            await person.client.wait_for_ready(timeout=max(1, deadline - time.monotonic()))
            return
        except RuntimeError:
            if person.kernel.poll() is not None or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def together(people: list[Attendee], cells: list[Cell]) -> list[RunAll]:
    """Every attendee's Run All, released at the same instant once all kernels are idle."""
    await asyncio.gather(*(ready(person) for person in people))
    start = asyncio.Event()
    runs = asyncio.gather(*(run_all(person, cells, start) for person in people))
    start.set()
    return await runs


def profiled(cells: list[Cell], path: Path) -> list[Cell]:
    return [
        (None, "import cProfile as _cp\n_profile = _cp.Profile()\n_profile.enable()"),
        *cells,
        (None, f"_profile.disable()\n_profile.dump_stats({str(path)!r})"),
    ]


def report(alone: RunAll, room: list[RunAll], logins: list[Login]) -> dict:
    slowest = max(run.seconds for run in room)
    return {
        "login_alone": logins[0].__dict__ if logins else None,
        "logins_at_once": [login.__dict__ for login in logins[1:]],
        "attendees": len(room),
        "load_average_before": os.getloadavg()[0],
        "alone": alone.__dict__,
        "room": [run.__dict__ for run in room],
        "room_kernel_cpu_median": statistics.median(run.kernel_cpu for run in room),
        "room_seconds_median": statistics.median(run.seconds for run in room),
        "slowest_to_alone": slowest / alone.seconds,
        # An attendee's memory with one notebook run: kernel, dev server, Jupyter server.
        "attendee_mib_median": statistics.median(run.kernel_mib + run.server_mib for run in room)
        + (statistics.median(login.jupyter_mib for login in logins) if logins else 0.0),
        "errors": [run.error for run in [alone, *room] if run.error],
    }


def table(results: dict) -> str:
    alone = results["alone"]
    lines = []
    if results["login_alone"]:
        login, at_once = results["login_alone"], results["logins_at_once"]
        lines += [
            "Login (the attendee's Jupyter server and dev server, until it answers)",
            f"  alone:        {login['seconds']:5.1f} s, Jupyter server "
            f"{login['jupyter_cpu']:.2f} CPU-s, dev server {login['server_cpu']:.2f} CPU-s "
            "(goal <= 3 together)",
            f"  {len(at_once)} at once:   slowest {max(x['seconds'] for x in at_once):5.1f} s, "
            f"median {statistics.median(x['jupyter_cpu'] + x['server_cpu'] for x in at_once):.2f}"
            " CPU-s each",
        ]
    lines += [
        f"Run All of {NOTEBOOK}, kernel already started (load average "
        f"{results['load_average_before']:.1f} before)",
        f"  alone:        {alone['seconds']:5.1f} s, kernel {alone['kernel_cpu']:.2f} CPU-s, "
        f"dev server {alone['server_cpu']:.2f} CPU-s",
    ]
    for index, run in enumerate(results["room"], 1):
        lines.append(
            f"  attendee {index:2d}:  {run['seconds']:5.1f} s, kernel {run['kernel_cpu']:.2f} "
            f"CPU-s, dev server {run['server_cpu']:.2f} CPU-s"
            + (f"  ERROR {run['error']}" if run["error"] else "")
        )
    lines.append(
        f"  {results['attendees']} at once: slowest / alone = "
        f"{results['slowest_to_alone']:.2f}x (goal <= 2.5x); median kernel "
        f"{results['room_kernel_cpu_median']:.2f} CPU-s (goal <= 2.5)"
    )
    lines.append(
        "  memory per attendee (kernel, dev server"
        + (", Jupyter server" if results["login_alone"] else "")
        + f"): {results['attendee_mib_median']:.0f} MiB PSS (median)"
    )
    return "\n".join(lines)


async def measure(args: argparse.Namespace) -> dict:
    cells = code_cells()
    with tempfile.TemporaryDirectory(prefix="room-bench-") as folder, ExitStack() as stack:
        logins = []
        if args.logins:
            logins.append(await log_in("alone", args.python, Path(folder)))
            logins += await asyncio.gather(
                *(log_in(f"at-once-{i}", args.python, Path(folder)) for i in range(args.attendees))
            )
        people = [
            stack.enter_context(attendee(f"attendee-{i}", args.python, Path(folder)))
            for i in range(args.attendees + 1)
        ]
        solo_cells = profiled(cells, args.profile) if args.profile else cells
        (alone,) = await together(people[:1], solo_cells)
        room = await together(people[1:], cells)
    return report(alone, room, logins)


def print_profile(path: Path) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.room", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--attendees", type=int, default=10, help="attendees at once (10)")
    parser.add_argument(
        "--python",
        type=Path,
        default=ROOM_PYTHON if ROOM_PYTHON.exists() else Path(sys.executable),
        help=f"the kernels' Python (the room's, {ROOM_PYTHON}, when it exists)",
    )
    parser.add_argument("--profile", type=Path, help="cProfile the lone attendee's kernel here")
    parser.add_argument(
        "--no-logins", dest="logins", action="store_false", help="measure Run All only"
    )
    args = parser.parse_args(argv)
    args.python = args.python.absolute()  # not resolved: a venv's python is a symlink
    print(f"Kernels of {args.python}; {args.attendees} attendees + 1 alone ...", flush=True)
    results = asyncio.run(measure(args))
    results["python"] = str(args.python)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    if args.profile:
        print_profile(args.profile)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
