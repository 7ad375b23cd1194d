"""Running the workshop notebooks as a learner would: Run All, cells in any order, one cell at a
time in a live kernel; and reading what they printed."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.helpers.servers import BIN, REPO

NOTEBOOK_DIR = REPO / "notebooks"
SOLUTIONS = NOTEBOOK_DIR / "solutions"
_kernel_dirs: dict[Path, Path] = {}


def kernel_dir() -> Path:
    """The folder this test process's kernels run in: a copy of the notebooks of its own.

    Notebooks write files next to themselves (02's gift_note.py, 07's and 08's my_shop/, the
    saved histories, 05's test file); xdist runs the same notebook in several worker
    processes at once, and in one shared folder they would overwrite each other's. A test
    that points NOTEBOOK_DIR at a folder of its own already has one.
    """
    if NOTEBOOK_DIR != REPO / "notebooks":
        return NOTEBOOK_DIR
    if NOTEBOOK_DIR not in _kernel_dirs:
        copy = Path(tempfile.mkdtemp(prefix=f"notebooks-{os.getpid()}-")) / "notebooks"
        shutil.copytree(NOTEBOOK_DIR, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        atexit.register(shutil.rmtree, copy.parent, ignore_errors=True)
        _kernel_dirs[NOTEBOOK_DIR] = copy
    return _kernel_dirs[NOTEBOOK_DIR]


def notebook_client(nb: Any) -> NotebookClient:
    """An nbclient for `nb`, its kernel in this process's copy of the notebooks (`kernel_dir`),
    each cell allowed `CELL_TIMEOUT_SECONDS`, each cell's run sent with the cell's id as
    JupyterLab sends it (`send_cell_ids`)."""
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(kernel_dir())}},
    )
    send_cell_ids(client)
    return client


LAB_CELL_ID = "cellId"
"""Where JupyterLab puts a cell's id in the metadata of the cell's `execute_request`
(@jupyterlab/cells, CodeCell.execute); ipykernel reads it there."""


def send_cell_ids(client: NotebookClient) -> None:
    """Send each cell's `execute_request` with the cell's id, as JupyterLab does: nbclient 0.11
    sends none. Just before each cell runs, the id becomes the kernel client's session's
    default message metadata (jupyter_client's `Session.metadata`)."""

    def carry_id(cell: Any, cell_index: int) -> None:
        client.kc.session.metadata = {LAB_CELL_ID: cell.id}

    client.on_cell_execute = carry_id


# Every notebook, in workshop order. A notebook missing here fails test_every_notebook_is_run.
NOTEBOOKS = [
    "00_setup",
    "01_first_order",
    "02_human_approval",
    "03_failures_and_compensation",
    "04_durability",
    "05_testing_workflows",
    "06_histories_as_dataframes",
    "07_change_the_workflow",
    "08_beyond_the_basics",
    "09_errors_and_timeouts",
    "10_cancellation_and_continue_as_new",
    "11_workflow_ids_and_with_start",
]


# Notebooks whose own test file runs them with their solutions (and checks what they show):
# running them again below would only cost time.
RUN_BY_THEIR_OWN_TESTS = {
    "07_change_the_workflow": "test_change_the_workflow.py",
    "05_testing_workflows": "test_testing_workflows.py",
    "09_errors_and_timeouts": "test_deep_dives.py",
    "10_cancellation_and_continue_as_new": "test_deep_dives.py",
    "11_workflow_ids_and_with_start": "test_deep_dives.py",
}


CELL_TIMEOUT_SECONDS = 90


ANSI = re.compile(r"\x1b\[[0-9;]*m")


# Shorter waits for the variant runs: the same cells, less idle time.
FAST_02 = {
    "APPROVAL_TIMEOUT_SECONDS": 1.5,
    "BUTTON_WAIT_SECONDS": 0.5,
    "MOCK_DELAY_SECONDS": 0.0,
}


@dataclass(frozen=True)
class NotebookServer:
    """Where the notebooks' kernels find Temporal: a free port the first notebook starts."""

    port: int
    env: dict[str, str]


def tagged(nb: Any, tag: str) -> list[Any]:
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


def load(name: str, parameters: dict[str, Any] | None = None, solutions: bool = False) -> Any:
    """The notebook, with parameters injected after its `parameters` cell (papermill's way)
    and, with `solutions`, each exercise cell replaced by its solution file."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    if parameters:
        source = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
        injected = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
        at = nb.cells.index(tagged(nb, "parameters")[0]) + 1
        nb.cells.insert(at, injected)
    if solutions:
        for k, cell in enumerate(tagged(nb, "exercise"), start=1):
            cell.source = (SOLUTIONS / f"{name}_{k}.py").read_text()
    return nb


@dataclass
class Run:
    """An executed notebook: its outputs as text, and how long Run All took."""

    nb: Any
    seconds: float

    @property
    def text(self) -> str:
        return "\n".join(output_text(cell) for cell in self.nb.cells if cell.cell_type == "code")


def output_text(cell: Any) -> str:
    """A cell's outputs as the learner reads them. Consecutive writes to one stream are one
    text, as JupyterLab shows them: a busy kernel may flush a `print` in two messages."""
    parts: list[str] = []
    previous: Any = None
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            if (
                previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                parts[-1] += output.text
            else:
                parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(ANSI.sub("", "\n".join(output.traceback)))
        previous = output
    return "\n".join(parts)


def execute(nb: Any, server: NotebookServer) -> Run:
    client = notebook_client(nb)
    started = time.monotonic()
    try:
        client.execute(env=server.env)
    except CellExecutionError as err:
        pytest.fail(f"a cell raised:\n{err}")
    seconds = time.monotonic() - started
    print(f"Run All took {seconds:.1f} s")
    return Run(nb, seconds)


def run(
    name: str,
    server: NotebookServer,
    parameters: dict[str, Any] | None = None,
    solutions: bool = False,
) -> Run:
    return execute(load(name, parameters, solutions), server)


def assert_no_worker_trouble(result: Run) -> None:
    assert "in-kernel worker" not in result.text, result.text


def run_all_in_one_kernel(
    name: str, server: NotebookServer, parameters: dict[str, Any], times: int
) -> list[str]:
    """Run All `times` times in the same kernel, without a restart; each round's outputs."""
    nb = load(name, parameters)
    client = notebook_client(nb)
    rounds = []
    with client.setup_kernel(env=server.env):
        for round_number in range(1, times + 1):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                cell.outputs = []
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as err:
                    pytest.fail(f"Run All #{round_number}: a cell raised:\n{err}")
            rounds.append(Run(nb, 0.0).text)
    return rounds


def run_cells(
    name: str,
    server: NotebookServer,
    cell_ids: list[str],
    parameters: dict[str, Any] | None = None,
    solutions: bool = False,
) -> list[str]:
    """Run the notebook's cells by id, in the given order (repeats allowed; "all": every code
    cell), in one kernel, as someone clicking around would; each cell's output, in order.
    The injected parameters run with the `parameters` cell."""
    nb = load(name, parameters, solutions)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    injected = tagged(nb, "injected-parameters")
    client = notebook_client(nb)
    outputs = []
    with client.setup_kernel(env=server.env):
        for cell_id in cell_ids:
            for cell in code if cell_id == "all" else [c for c in code if c.id == cell_id]:
                cell.outputs = []
                try:
                    client.execute_cell(cell, nb.cells.index(cell))
                    if "parameters" in cell.metadata.get("tags", []) and cell_id != "all":
                        for extra in injected:
                            client.execute_cell(extra, nb.cells.index(extra))
                except CellExecutionError as err:
                    pytest.fail(f"cell {cell.id} raised:\n{err}")
                outputs.append(output_text(cell))
    return outputs


def worker_processes_alive(server: NotebookServer) -> list[str]:
    """Worker processes that kernels of `server` started: those talking to its Temporal address.
    Other test runs, and other xdist workers' notebooks, may have workers of their own."""
    listed = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [
        line
        for line in listed.splitlines()
        if "-m order_management.worker" in line and _talks_to(line.split()[0], server)
    ]


def _talks_to(pid: str, server: NotebookServer) -> bool:
    """True when the process `pid` was started with `server`'s TEMPORAL_ADDRESS."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # gone meanwhile
        return False
    return f"TEMPORAL_ADDRESS={server.env['TEMPORAL_ADDRESS']}".encode() in environment


def committed(name: str) -> Any:
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


class Kernel:
    """One kernel, driven a cell at a time, so the test can act while no cell runs."""

    def __init__(self, client: NotebookClient) -> None:
        self.client = client

    def run(self, source: str, fails: bool = False) -> str:
        """Run one cell and return its output; with `fails`, the cell must raise."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        try:
            self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        except CellExecutionError:
            assert fails, output_text(cell)
        else:
            assert not fails, f"the cell did not raise:\n{output_text(cell)}"
        return output_text(cell)


def temporal(server: NotebookServer, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "temporal"), *args, "--address", f"localhost:{server.port}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def check_with_answer(
    name: str, server: NotebookServer, setup_ids: list[str], answer: str, k: int = 1
) -> str:
    """Run the notebook's `setup_ids` cells in one kernel, then its k-th exercise cell with
    `answer` as its source, then the check cell under it, which must fail (a wrong answer):
    the check cell's output."""
    nb = load(name)
    exercise = tagged(nb, "exercise")[k - 1]
    exercise.source = answer
    check = nb.cells[nb.cells.index(exercise) + 1]
    client = notebook_client(nb)
    with client.setup_kernel(env=server.env):
        for cell in [c for c in nb.cells if c.id in setup_ids] + [exercise]:
            try:
                client.execute_cell(cell, nb.cells.index(cell))
            except CellExecutionError as err:
                pytest.fail(f"cell {cell.id} raised:\n{err}")
        with pytest.raises(CellExecutionError):
            client.execute_cell(check, nb.cells.index(check))
    return output_text(check)
