"""The workshop notebooks, executed top to bottom in a fresh kernel, as Run All would.

Each notebook runs with nbclient against a real dev server that the notebooks start
themselves (the kernel's TEMPORAL_ADDRESS points at a free port with nothing on it). Every
notebook runs once with the exercise solutions applied, then again with parameter variants
and the exercises left untouched, as a learner who skips them would. A cell that raises
fails the test. The kernel is the venv's own Python: jupyter_client starts the `python3`
kernel with sys.executable, and 00_setup's preflight prints it.

Below those, the in-kernel worker's promises are tested in one long-lived kernel, stepping
cell by cell: it finishes an order signalled from outside while no cell runs, a restart
replaces it, and a worker that dies says so in the next cell.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from order_management import devserver

from .conftest import BIN, REPO, free_port

pytestmark = pytest.mark.notebook

NOTEBOOK_DIR = REPO / "notebooks"
SOLUTIONS = NOTEBOOK_DIR / "solutions"
# Every notebook, in workshop order. A notebook missing here fails test_every_notebook_is_run.
NOTEBOOKS = [
    "00_setup",
    "01_first_order",
    "02_human_approval",
    "03_failures_and_compensation",
    "04_histories_as_dataframes",
    "05_durability",
    "06_beyond_the_basics",
    "07_change_the_workflow",
    "08_testing_workflows",
]
# Notebooks whose own test file runs them with their solutions (and checks what they show):
# running them again below would only cost time.
RUN_BY_THEIR_OWN_TESTS = {"07_change_the_workflow": "test_change_the_workflow.py",
                          "08_testing_workflows": "test_testing_workflows.py"}
CELL_TIMEOUT_SECONDS = 90
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Shorter waits for the variant runs: the same cells, less idle time.
FAST_02 = {"APPROVAL_TIMEOUT_SECONDS": 1.5, "TERMINAL_DELAY_SECONDS": 1.0,
           "BUTTON_WAIT_SECONDS": 0.5, "MOCK_DELAY_SECONDS": 0.0}


@dataclass(frozen=True)
class NotebookServer:
    """Where the notebooks' kernels find Temporal: a free port the first notebook starts."""

    port: int
    env: dict[str, str]


@pytest.fixture(scope="module")
def notebook_server(isolated_state: Path) -> Iterator[NotebookServer]:
    port = free_port()
    env = dict(os.environ, TEMPORAL_ADDRESS=f"localhost:{port}",
               ORDER_STATE_DIR=str(isolated_state),
               ORDER_LEDGER_DB=str(isolated_state / "notebooks-ledger.db"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    try:
        yield NotebookServer(port=port, env=env)
    finally:
        devserver.stop(port)  # the server the first notebook started (same state dir)


# -- running a notebook ---------------------------------------------------------------------

def tagged(nb: Any, tag: str) -> list[Any]:
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


def load(name: str, parameters: dict[str, Any] | None = None,
         solutions: bool = False) -> Any:
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
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(ANSI.sub("", "\n".join(output.traceback)))
    return "\n".join(parts)


def execute(nb: Any, server: NotebookServer) -> Run:
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    started = time.monotonic()
    try:
        client.execute(env=server.env)
    except CellExecutionError as err:
        pytest.fail(f"a cell raised:\n{err}")
    seconds = time.monotonic() - started
    print(f"Run All took {seconds:.1f} s")
    return Run(nb, seconds)


def run(name: str, server: NotebookServer, parameters: dict[str, Any] | None = None,
        solutions: bool = False) -> Run:
    return execute(load(name, parameters, solutions), server)


def assert_no_worker_trouble(result: Run) -> None:
    assert "in-kernel worker" not in result.text, result.text


# -- every notebook, with the solutions applied --------------------------------------------

@pytest.mark.parametrize("name", [n for n in NOTEBOOKS if n not in RUN_BY_THEIR_OWN_TESTS])
def test_notebook_runs_top_to_bottom_with_solutions(name: str,
                                                    notebook_server: NotebookServer) -> None:
    result = run(name, notebook_server, solutions=True)
    assert_no_worker_trouble(result)
    assert "Your turn" not in result.text, "a solution left its exercise untouched"
    checks = len(tagged(result.nb, "check"))
    assert result.text.count("Well done") == checks, result.text
    KEY_OUTPUTS.get(name, lambda _: None)(result.text)


def setup_key_outputs(text: str) -> None:
    assert "FAIL" not in text, text
    assert f"OK    Python                   {sys.version.split()[0]} at {sys.executable}" in text
    assert "OK    A tiny order" in text and "Order processed successfully" in text
    assert "All checks passed" in text


def first_order_key_outputs(text: str) -> None:
    # The code on screen, read from the package: the workflow's run and an activity.
    assert "@workflow.run\nasync def run(self, order: Order" in text
    assert "@activity.defn\nasync def reserve_inventory(order: Order) -> str:" in text
    assert "Result: Order processed successfully" in text
    assert re.search(r"Transaction ID: TXN-\w+", text)
    for step in ("reserving_inventory", "processing_payment", "initiating_delivery", "completed"):
        assert step in text, f"the live status never showed {step}"
    assert "WorkflowExecutionCompleted" in text  # the history table (and the CLI)
    assert "$ temporal workflow show --workflow-id order-workflow-ORDER-" in text
    # Retention: how long the server keeps a closed workflow (a day on the dev server).
    assert "$ temporal operator namespace describe" in text
    assert re.search(r"WorkflowExecutionRetentionTtl\s+24h0m0s", text), text


def human_approval_key_outputs(text: str) -> None:
    # The handlers on screen: the wait with its timeout, the query, signal and update.
    for code in ("await workflow.wait_condition(", "timeout=timeout", "@workflow.query\n",
                 "def approve_order(self, approved", "@workflow.update\ndef decide(",
                 "@decide.validator\ndef _validate_decision("):
        assert code in text, f"the code on screen lacks {code!r}"
    assert "APPROVE = True -> completed: Order processed successfully" in text
    assert "Order rejected by the approver" in text
    assert "No approval within 3 seconds" in text
    assert "First decision: approved" in text
    assert "Second decision refused: ValueError: Order ORDER-" in text
    assert "is no longer waiting for a decision (already approved)" in text
    # Any language: an order started and decided with the temporal CLI and JSON. A payload
    # that is no decision is ignored and listed; the order waits on, and `true` completes it.
    assert "$ temporal workflow start --type OrderWorkflow" in text
    assert ("Status: awaiting_approval\nIgnored: ['approve_order(\"yes\") ignored: "
            "approve_order takes true or false']") in text
    assert re.search(r"--name approve_order --input true\n+Signal workflow succeeded\n+"
                     r"Order processed successfully", text), text
    assert "Traceback" not in text  # the worker reports the bad payload in one line
    assert "Started workflow: order-workflow-ORDER-2000" in text
    assert "Requires approval: True" in text and "Order rejected!" in text
    assert "Approval sent!" in text and "'message': 'Order processed successfully'" in text
    assert "clicking Approve for you" in text


def durability_key_outputs(text: str) -> None:
    assert "during process_payment (attempt 1). Still alive: False" in text
    # The history names the killed worker and the one that took over, and why it retried.
    workers = re.search(r"The killed worker process: (\S+)\. This kernel's worker: (\S+)\.", text)
    assert workers and workers[1] != workers[2], text
    assert "last failure: activity StartToClose timeout" in text
    # The long activity was retried on its heartbeat timeout, from its last heartbeat.
    assert "last failure: activity Heartbeat timeout" in text
    resumed = re.search(r"Attempt 2 began after unit (\d+): the progress of the last", text)
    assert resumed and int(resumed[1]) >= 3, text
    # The notebook restarts the server it started itself: in CI too, never skipped.
    assert "reconnected by itself" in text and "After the restart: awaiting_approval" in text
    assert text.count("completed - Order processed successfully") == 3, text
    assert "Orders charged more than once: none" in text, text


def beyond_the_basics_key_outputs(text: str) -> None:
    assert re.search(r"ORDER-\w+ \(\$485\.00\): completed", text)
    assert "same ids, same warehouses, same decisions" in text
    assert "Deleted the schedule ledger-report." in text


def failures_key_outputs(text: str) -> None:
    # The code on screen: the retry policy, the compensation loop, the idempotent charge.
    assert "STEP_RETRY = RetryPolicy(" in text and "retry_policy=STEP_RETRY" in text
    assert "for step in reversed(done):" in text
    assert "async def process_payment(order: Order) -> str:" in text
    assert "done = _done(db, run, \"charge\")" in text
    assert "1 charge(s) of $250.00 after 3 payment attempt(s)" in text  # idempotent retries
    assert "compensated - Order compensated: the payment step failed" in text
    assert "inventory: reserve_inventory\n" in text
    assert "  payment: reserve_inventory -> process_payment -> release_inventory" in text
    assert (" delivery: reserve_inventory -> process_payment -> initiate_delivery -> "
            "refund_payment -> release_inventory") in text


def histories_key_outputs(text: str) -> None:
    assert text.count("<Figure size") == 2  # the timelines of one order and of the batch
    assert "order workflows on this server" in text
    # Saved where 08 replays every history from, and replayed.
    assert "Saved saved_histories/04_approved_order.json" in text
    assert (NOTEBOOK_DIR / "saved_histories" / "04_approved_order.json").is_file()
    assert "(deterministic)" in text
    assert ("NOT deterministic: [TMPRL1100] Nondeterminism error: Activity type of scheduled "
            "event 'process_payment' does not match") in text


KEY_OUTPUTS = {
    "00_setup": setup_key_outputs,
    "01_first_order": first_order_key_outputs,
    "02_human_approval": human_approval_key_outputs,
    "03_failures_and_compensation": failures_key_outputs,
    "04_histories_as_dataframes": histories_key_outputs,
    "05_durability": durability_key_outputs,
    "06_beyond_the_basics": beyond_the_basics_key_outputs,
}


# -- parameter variants, exercises untouched ------------------------------------------------

@pytest.mark.parametrize("amount", [1000.0, 1000.01])  # the threshold, either side
def test_first_order_explains_any_amount(amount: float, notebook_server: NotebookServer) -> None:
    result = run("01_first_order", notebook_server,
                 {"ORDER_AMOUNT": amount, "MOCK_DELAY_SECONDS": 0.2})
    assert "Result: Order processed successfully" in result.text
    if amount > 1000:
        assert "over $1,000: the workflow will wait" in result.text
        assert "waits for a decision: approved it with the approve_order signal" in result.text
    else:
        assert "not over $1,000: no approval is needed" in result.text
    assert "Your turn" in result.text


@pytest.mark.parametrize(("amount", "approve", "ending"), [
    (1000.0, True, "completed"),
    (1000.01, True, "completed"),
    (1500.0, False, "rejected"),
    (1500.0, None, "approval_timed_out"),
])
def test_human_approval_follows_the_decision(amount: float, approve: bool | None, ending: str,
                                             notebook_server: NotebookServer) -> None:
    result = run("02_human_approval", notebook_server,
                 {"ORDER_AMOUNT": amount, "APPROVE": approve, **FAST_02})
    assert f"APPROVE = {approve!r} -> {ending}" in result.text, result.text
    if amount <= 1000:
        assert "does not need approval" in result.text
        assert "requires_approval: False" in result.text
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


@pytest.mark.parametrize(("fail_step", "transient", "compensations"), [
    (None, 0, "none"),
    ("inventory", 1, "none"),
    ("payment", 1, "['release_inventory']"),
    ("delivery", 1, "['refund_payment', 'release_inventory']"),
])
def test_failures_notebook_runs_for_every_fail_step(fail_step: str | None, transient: int,
                                                    compensations: str,
                                                    notebook_server: NotebookServer) -> None:
    result = run("03_failures_and_compensation", notebook_server,
                 {"FAIL_STEP": fail_step, "TRANSIENT_FAILURES": transient,
                  "MOCK_DELAY_SECONDS": 0.0})
    assert f"1 charge(s) of $250.00 after {transient + 1} payment attempt(s)" in result.text
    if fail_step is None:
        assert result.text.count("completed - Order processed successfully") == 2
    else:
        assert f"compensated - Order compensated: the {fail_step} step failed" in result.text
    assert f"Compensations, in the order they ran: {compensations}" in result.text
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


def test_histories_notebook_runs_without_failures(notebook_server: NotebookServer) -> None:
    result = run("04_histories_as_dataframes", notebook_server,
                 {"FAIL_STEP": None, "TRANSIENT_FAILURES": 0, "MOCK_DELAY_SECONDS": 0.0})
    assert "(deterministic)" in result.text
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


# -- a room full of people: Run All twice in one kernel, bad parameters -------------------

def run_all_in_one_kernel(name: str, server: NotebookServer, parameters: dict[str, Any],
                          times: int) -> list[str]:
    """Run All `times` times in the same kernel, without a restart; each round's outputs."""
    nb = load(name, parameters)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
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


def test_first_order_runs_all_twice_in_one_kernel(notebook_server: NotebookServer) -> None:
    rounds = run_all_in_one_kernel("01_first_order", notebook_server,
                                   {"MOCK_DELAY_SECONDS": 0.0}, times=2)
    started = [re.search(r"Started (order-workflow-ORDER-\w+)", text) for text in rounds]
    assert all(started) and started[0][1] != started[1][1], "the second round needs a new order"
    for text in rounds:
        assert "Result: Order processed successfully" in text
        assert "in-kernel worker" not in text, text


def test_human_approval_runs_all_twice_in_one_kernel(notebook_server: NotebookServer) -> None:
    # The second round meets the first one's leftovers: nest_asyncio already applied, the
    # seed's ORDER-2000 id used before, a worker started again.
    rounds = run_all_in_one_kernel("02_human_approval", notebook_server, FAST_02, times=2)
    for text in rounds:
        assert "APPROVE = True -> completed: Order processed successfully" in text
        assert text.count("Started workflow: order-workflow-ORDER-2000") == 2
        assert "Ignored: ['approve_order(\"yes\") ignored" in text  # a new CLI order each round
        assert "clicking Approve for you" in text
        assert "in-kernel worker" not in text, text


@pytest.mark.parametrize(("name", "parameters", "line"), [
    ("04_histories_as_dataframes", {"MOCK_DELAY_SECONDS": 0.0}, "(deterministic)"),
    ("06_beyond_the_basics", {"MOCK_DELAY_SECONDS": 0.0}, "Deleted the schedule ledger-report."),
])
def test_histories_and_beyond_run_all_twice_in_one_kernel(
        name: str, parameters: dict[str, Any], line: str,
        notebook_server: NotebookServer) -> None:
    for text in run_all_in_one_kernel(name, notebook_server, parameters, times=2):
        assert line in text, text
        assert "in-kernel worker" not in text, text


@pytest.mark.parametrize(("name", "parameters", "line"), [
    ("01_first_order", {"ORDER_AMOUNT": "500"}, "ORDER_AMOUNT = '500': must be a number"),
    ("02_human_approval", {"APPROVAL_TIMEOUT_SECONDS": 0},
     "APPROVAL_TIMEOUT_SECONDS = 0: the approval timeout must be a number of seconds above 0"),
    ("03_failures_and_compensation", {"FAIL_STEP": "paymnet"},
     "FAIL_STEP = 'paymnet': unknown failure step 'paymnet'; use one of inventory, payment"),
    ("05_durability", {"ORDER_AMOUNT": 0}, "ORDER_AMOUNT = 0: must be a finite amount"),
    ("07_change_the_workflow", {"WAIT_SECONDS": "10"}, "WAIT_SECONDS = '10': must be a number"),
])
def test_a_bad_parameter_stops_at_setup_with_one_line(name: str, parameters: dict[str, Any],
                                                      line: str,
                                                      notebook_server: NotebookServer) -> None:
    nb = load(name, parameters)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    with pytest.raises(CellExecutionError):
        client.execute(env=notebook_server.env)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    setup = code[2]  # after the parameters and the injected ones
    assert not any(cell.get("outputs") for cell in code[3:]), "Run All went past the setup"
    shown = output_text(setup)
    assert f"InvalidParameter: Fix the parameters cell, then run it and this cell again: {line}" \
        in shown
    assert "Traceback" not in shown and "most recent call last" not in shown, shown
    assert "Connected to Temporal" not in shown  # refused before anything started


def run_cells(name: str, server: NotebookServer, cell_ids: list[str],
              parameters: dict[str, Any] | None = None, solutions: bool = False) -> list[str]:
    """Run the notebook's cells by id, in the given order (repeats allowed; "all": every code
    cell), in one kernel, as someone clicking around would; each cell's output, in order.
    The injected parameters run with the `parameters` cell."""
    nb = load(name, parameters, solutions)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    injected = tagged(nb, "injected-parameters")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
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


def worker_processes_alive() -> list[str]:
    """Worker processes started from this checkout (others' test runs may share the machine)."""
    listed = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listed.splitlines()
            if "-m order_management.worker" in line and _runs_in_this_checkout(line.split()[0])]


def _runs_in_this_checkout(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/cwd").resolve().is_relative_to(REPO)
    except OSError:  # gone meanwhile
        return False


def test_durability_kill_cells_clicked_twice_leave_one_worker_then_none(
        notebook_server: NotebookServer) -> None:
    before = worker_processes_alive()
    parameters = {"MOCK_DELAY_SECONDS": 1.0}
    *_, start_twice, kill_1, kill_2 = run_cells("05_durability", notebook_server, [
        "05-02", "05-04", "05-12", "05-12", "05-14", "05-14"], parameters)
    killed = re.findall(r"Killed (\S+) with SIGKILL during process_payment \(attempt 1\)\. "
                        r"Still alive: False", kill_1 + kill_2)
    # The second click on the start cell reused the process; the second kill needed a new one.
    assert "is polling" in start_twice and "Stopped the worker process" not in start_twice
    assert len(killed) == 2 and killed[0] != killed[1], kill_1 + kill_2
    assert worker_processes_alive() == before  # none left once the kernel has shut down


def test_beyond_the_basics_cells_run_again_stay_right(notebook_server: NotebookServer) -> None:
    outputs = run_cells("06_beyond_the_basics", notebook_server,
                        ["all", "06-06", "06-08", "06-08c", "06-20", "06-22", "06-23"],
                        {"MOCK_DELAY_SECONDS": 0.0}, solutions=True)
    # Part 1 again made a second big order for the customer: the query still finds exactly
    # the customer's orders over $100, and the schedule deleted twice is no error.
    assert "was deleted already" in outputs[-3]
    assert "Well done" in outputs[-1], outputs[-1]


def test_beyond_the_basics_approves_a_sub_order_over_1000(notebook_server: NotebookServer) -> None:
    # One product over $1000: its child workflow waits for approval, as any order does.
    result = run("06_beyond_the_basics", notebook_server,
                 {"ITEMS": [("PROD-001", 1, 1500.0), ("PROD-002", 2, 10.0)],
                  "MOCK_DELAY_SECONDS": 0.0})
    assert len(re.findall(r"Sub-order ORDER-[\w-]+ is over \$1000 and would wait for a person: "
                          r"approved it\.", result.text)) == 1, result.text
    assert re.search(r"ORDER-\w+ \(\$1520\.00\): completed", result.text)
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


# -- what every committed notebook must look like --------------------------------------------

def committed(name: str) -> Any:
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_run() -> None:
    on_disk = sorted(path.stem for path in NOTEBOOK_DIR.glob("*.ipynb"))
    assert on_disk == sorted(NOTEBOOKS), "add new notebooks to NOTEBOOKS in this file"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean(name: str) -> None:
    nb = committed(name)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), \
        f"{name} has outputs: clear them before committing"
    assert "parameters" in code[0].metadata.get("tags", []), \
        f"{name}: the first code cell must be tagged `parameters`"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_has_a_solution_and_a_check(name: str) -> None:
    nb = committed(name)
    exercises = tagged(nb, "exercise")
    solutions = sorted(path.name for path in SOLUTIONS.glob(f"{name}_*.py"))
    assert solutions == [f"{name}_{k}.py" for k in range(1, len(exercises) + 1)]
    for k, cell in enumerate(exercises, start=1):
        at = nb.cells.index(cell)
        following = nb.cells[at + 1]
        assert "check" in following.metadata.get("tags", []), \
            f"{name}: an exercise cell must be followed by its `check` cell"
        assert "self_check(" in following.source
        task = nb.cells[at - 1]
        assert task.cell_type == "markdown" and f"%load solutions/{name}_{k}.py" in task.source, \
            f"{name}: the task above exercise {k} must say how to load its solution"
    if name != "00_setup":
        assert exercises, f"{name} needs at least one exercise"


# -- the in-kernel worker, cell by cell ---------------------------------------------------

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


@pytest.fixture(scope="module")
def kernel(notebook_server: NotebookServer) -> Iterator[Kernel]:
    client = NotebookClient(nbformat.v4.new_notebook(), timeout=CELL_TIMEOUT_SECONDS,
                            kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    with client.setup_kernel(env=notebook_server.env):
        shell = Kernel(client)
        shell.run("""
import asyncio
from order_management import config
from order_management.notebook import *
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow
client = await connect_and_show()
await start_worker(client)

async def start(order, task_queue=None):
    return await client.start_workflow(OrderWorkflow.run, order, id=f"order-workflow-{order.order_id}",
                                       task_queue=task_queue or config.task_queue())
""")
        yield shell


def temporal(server: NotebookServer, *args: str) -> str:
    done = subprocess.run([str(BIN / "temporal"), *args, "--address",
                           f"localhost:{server.port}"], capture_output=True, text=True,
                          timeout=30, check=True)
    return done.stdout


def test_worker_finishes_an_order_signalled_while_no_cell_runs(
        kernel: Kernel, notebook_server: NotebookServer) -> None:
    workflow_id = kernel.run("""
handle = await start(make_order(1500.0, new_order_id()))
print(handle.id)
""").strip()
    # The cell has ended; the kernel is idle. Approve from outside, as from a terminal.
    temporal(notebook_server, "workflow", "signal", "--workflow-id", workflow_id,
             "--name", "approve_order", "--input", "true")
    deadline = time.monotonic() + 30
    while "COMPLETED" not in temporal(notebook_server, "workflow", "describe",
                                      "--workflow-id", workflow_id):
        assert time.monotonic() < deadline, "the idle kernel's worker did not finish the order"
        time.sleep(0.2)
    assert kernel.run("print((await asyncio.wait_for(handle.result(), 10)).message)").strip() \
        == "Order processed successfully"


def test_starting_the_worker_again_replaces_it(kernel: Kernel) -> None:
    output = kernel.run("""
for _ in range(3):
    await start_worker(client)
import asyncio
workers = [t for t in asyncio.all_tasks() if t.get_name().startswith("worker:") and not t.done()]
print("running workers:", len(workers))
handle = await start(make_order(20.0, new_order_id()))
print((await asyncio.wait_for(handle.result(), 10)).message)
""")
    assert "running workers: 1" in output
    assert "Order processed successfully" in output
    assert "single use" not in output


def test_a_worker_that_dies_says_so_in_the_next_cell(kernel: Kernel) -> None:
    kernel.run("kernel_worker.task.cancel()")
    kernel.run("await asyncio.sleep(2)")  # the worker shuts down between these cells
    warned = kernel.run("print('next cell')")
    assert "Warning! The in-kernel worker was cancelled. Run `await start_worker(client)`" in warned
    refused = kernel.run("await asyncio.wait_for((await start(make_order(40.0, "
                         "new_order_id()))).result(), timeout=3)", fails=True)
    assert "TimeoutError: no answer before the timeout" in refused
    assert "this kernel runs no worker: run `await start_worker(client)`" in refused
    assert "most recent call last" not in refused  # one line to act on, not a stack
    kernel.run("await start_worker(client)")
    after_restart = kernel.run("""
handle = await start(make_order(30.0, new_order_id()))
print((await asyncio.wait_for(handle.result(), 10)).message)
""")
    assert after_restart.strip() == "Order processed successfully"  # and no more warning


def test_an_order_outlives_the_kernel_that_ran_it(kernel: Kernel,
                                                  notebook_server: NotebookServer) -> None:
    # Restart kernel in one notebook while another kernel follows that notebook's order: the
    # server first holds the order's next task for the dead worker; the queries still answer.
    # Its own task queue, so the order's first task surely ran in the kernel that dies.
    queue = f"outlives-{time.monotonic_ns()}"
    other = NotebookClient(nbformat.v4.new_notebook(), timeout=CELL_TIMEOUT_SECONDS,
                           kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    with other.setup_kernel(env=notebook_server.env):
        order_id = Kernel(other).run(f"""
from order_management.notebook import connect_and_show, new_order_id, start_worker
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow
client = await connect_and_show()
await start_worker(client, "{queue}")
order = make_order(1500.0, new_order_id("DIES"))
handle = await client.start_workflow(OrderWorkflow.run, order, id="order-workflow-" + order.order_id,
                                     task_queue="{queue}")
print(await handle.query(OrderWorkflow.get_status))
print(order.order_id)
""").split()[-1]
    # That kernel is gone, without stopping its worker: the order lives on in this one.
    output = kernel.run(f"""
from order_management.orders import order_handle
await start_worker(client, "{queue}")
handle = order_handle(client, "{order_id}")
print(await handle.query(OrderWorkflow.get_status))
await handle.signal(OrderWorkflow.approve_order, True)
print((await asyncio.wait_for(handle.result(), 30)).message)
""")
    kernel.run("await start_worker(client)")  # back on the workshop's task queue
    assert re.search(r"\nawaiting_approval\n+Order processed successfully", output), output


def test_a_cell_run_before_the_one_it_needs_says_which_to_run(kernel: Kernel) -> None:
    shown = kernel.run("print(flaky_handle.id)", fails=True)  # 03's step 1 never ran here
    assert "NameError: name 'flaky_handle' is not defined" in shown
    assert "Is `flaky_handle` made by a cell above? Run the cells above this one first" in shown


def test_a_wrong_exercise_answer_fails_its_check_with_the_hint(kernel: Kernel) -> None:
    assert "Your turn: count the steps" in kernel.run(
        "self_check(..., 3, task='count the steps', hint='there are three')")
    wrong = kernel.run("self_check(2, 3, hint='there are three')", fails=True)
    assert "NotYet: Not quite yet (your answer: 2). Hint: there are three" in wrong
    assert "Well done" in kernel.run("self_check(3, 3, hint='there are three')")


def test_approval_panel_buttons_decide_and_the_status_line_follows(kernel: Kernel) -> None:
    output = kernel.run("""
handle = await start(make_order(1800.0, new_order_id()))
panel = approval_panel(handle)
await asyncio.sleep(1)
print("before:", panel.status)
panel.reject_button.click()
print((await asyncio.wait_for(handle.result(), 10)).status)
await asyncio.sleep(1)
print("after:", panel.status, panel.approve_button.disabled, panel.reject_button.disabled)
""")
    assert re.search(r"before: <b>order-workflow-ORDER-\w+</b>: awaiting_approval", output)
    assert "\nrejected\n" in output
    assert re.search(r"after: <b>order-workflow-ORDER-\w+</b>: rejected True True", output)


def test_a_worker_that_cannot_start_says_why(kernel: Kernel,
                                             notebook_server: NotebookServer) -> None:
    refused = kernel.run(f"""
from temporalio.client import Client
elsewhere = await Client.connect("localhost:{notebook_server.port}", namespace="no-such-namespace")
await start_worker(elsewhere)
""", fails=True)
    assert "WorkerStopped: The worker could not start" in refused
    assert "no-such-namespace" in refused
    assert "most recent call last" not in refused
    kernel.run("await start_worker(client)")


def test_sdk_errors_a_learner_can_cause_show_as_one_line(kernel: Kernel) -> None:
    failed = kernel.run("await asyncio.wait_for((await start(make_order(-5.0, new_order_id())))"
                        ".result(), 10)", fails=True)
    assert "WorkflowFailureError: the workflow failed: Invalid order" in failed
    kernel.run("""
handle = await start(make_order(1500.0, new_order_id()))
print(await handle.execute_update(OrderWorkflow.decide, True))
await asyncio.wait_for(handle.result(), 10)
""")
    finished = kernel.run("await handle.signal(OrderWorkflow.approve_order, False)", fails=True)
    assert "RPCError: that workflow has already finished" in finished
    waiting = kernel.run("""
handle = await start(make_order(1500.0, new_order_id()))
print(await handle.execute_update(OrderWorkflow.decide, True))
await handle.execute_update(OrderWorkflow.decide, False)
""", fails=True)
    assert "WorkflowUpdateFailedError: the update was refused: Order" in waiting
    assert "no longer waiting for a decision (already approved)" in waiting
    for shown in (failed, finished, waiting):
        assert "most recent call last" not in shown and "Traceback" not in shown, shown


def test_a_cell_shows_the_code_it_runs_from_the_real_source(kernel: Kernel) -> None:
    shown = kernel.run("print(repr(show_code(OrderWorkflow.run, "
                       "'order_management.workflow.STEP_RETRY')))")
    assert re.search(r"# order_management/workflow\.py, lines \d+-\d+\n@workflow\.run\n"
                     r"async def run\(self, order: Order[^)]*\) -> OrderResult:", shown), shown
    assert "STEP_RETRY = RetryPolicy(" in shown and "maximum_interval=" in shown
