"""The workshop notebooks, executed top to bottom in a fresh kernel, as Run All would.

Each notebook runs with nbclient against a real dev server that the notebooks start
themselves (the kernel's TEMPORAL_ADDRESS points at a free port with nothing on it). Every
notebook runs once with the exercise solutions applied, then again with parameter variants
and the exercises left untouched, as a learner who skips them would. A cell that raises
fails the test. The kernel is the venv's own Python: jupyter_client starts the `python3`
kernel with sys.executable, and 00_setup's preflight prints it.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
from nbclient.exceptions import CellExecutionError

from tests.helpers.notebooks import (
    FAST_02,
    NOTEBOOKS,
    RUN_BY_THEIR_OWN_TESTS,
    NotebookServer,
    assert_no_worker_trouble,
    check_with_answer,
    kernel_dir,
    load,
    notebook_client,
    output_text,
    run,
    run_all_in_one_kernel,
    run_cells,
    tagged,
    temporal,
    worker_processes_alive,
)

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("name", [n for n in NOTEBOOKS if n not in RUN_BY_THEIR_OWN_TESTS])
def test_notebook_runs_top_to_bottom_with_solutions(
    name: str, notebook_server: NotebookServer
) -> None:
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
    # The learner's progress, read by query from their progress workflow: a row per notebook.
    assert "exercises passed" in text and "05_testing_workflows" in text, text


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
    # The learner's activity (the solution's) ran on the learner's worker, in its history.
    assert re.search(
        r"In the history of confirmation-ORDER-\w+-\w+: 5 ACTIVITY_TASK_SCHEDULED, "
        r"6 ACTIVITY_TASK_STARTED, 7 ACTIVITY_TASK_COMPLETED",
        text,
    ), text
    # Retention: how long the server keeps a closed workflow (a day on the dev server).
    assert "$ temporal operator namespace describe" in text
    assert re.search(r"WorkflowExecutionRetentionTtl\s+24h0m0s", text), text


def human_approval_key_outputs(text: str) -> None:
    # The handlers on screen: the wait with its timeout, the query, signal and update.
    for code in (
        "await workflow.wait_condition(",
        "timeout=timeout",
        "@workflow.query\n",
        "def approve_order(self, *values",
        "@workflow.update\ndef decide(",
        "@decide.validator\ndef _validate_decision(",
    ):
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
    assert (
        'Status: awaiting_approval\nIgnored: [\'approve_order("yes") ignored: '
        "approve_order takes true or false']"
    ) in text
    assert re.search(
        r"--name approve_order --input true\n+Signal workflow succeeded\n+"
        r"Order processed successfully",
        text,
    ), text
    assert "Traceback" not in text  # the worker reports the bad payload in one line
    # Approved from a separate process while no cell ran: one signal, the stand-in's.
    assert "Signals in its history: 1" in text
    assert "clicking Approve for you" in text
    # The learner's own signal and query (the solution's), run on a real worker.
    assert re.search(
        r"gift-note-\w+ ended with 'Gift wrap, please'; get_note answered 'Gift wrap, please'",
        text,
    ), text


def durability_key_outputs(text: str) -> None:
    # The server's view of the stopped worker's order: attempt 2 waits for the next worker.
    assert re.search(
        r"reserve_inventory: PENDING_ACTIVITY_STATE_SCHEDULED, attempt 2, last failure: "
        r".*shutting down",
        text,
    ), text
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
    # The parent's code on screen: its children and its search attributes.
    assert "result = await workflow.execute_child_workflow(" in text
    assert "workflow.upsert_search_attributes(" in text
    assert "workflow.uuid4()" in text and "workflow.random()" in text
    assert re.search(r"ORDER-\w+ \(\$485\.00\): completed", text)
    assert "same ids, same warehouses, same decisions" in text
    assert "Deleted the schedule ledger-report." in text


def failures_key_outputs(text: str) -> None:
    # The code on screen: the retry policy, the compensation loop, the idempotent charge.
    assert "STEP_RETRY = RetryPolicy(" in text and "retry_policy=STEP_RETRY" in text
    assert "non_retryable=True," in text  # the refusal that stops the retries, on screen
    assert "for step in reversed(done):" in text
    assert "async def process_payment(order: Order) -> str:" in text
    assert 'done = _done(db, run, "charge")' in text
    assert "1 charge(s) of $250.00 after 3 payment attempt(s)" in text  # idempotent retries
    assert "compensated - Order compensated: the payment step failed" in text
    # The learner's retry policy (the solution's), run on a real worker: its attempts.
    assert "Well done" in text and "payment-trial-declined-card-" in text
    assert "inventory: reserve_inventory\n" in text
    assert "  payment: reserve_inventory -> process_payment -> release_inventory" in text
    assert (
        " delivery: reserve_inventory -> process_payment -> initiate_delivery -> "
        "refund_payment -> release_inventory"
    ) in text


def histories_key_outputs(text: str) -> None:
    assert text.count("<Figure size") == 2  # the timelines of one order and of the batch
    assert "order workflows on this server" in text
    # Saved as JSON, read back, and replayed.
    assert "Saved saved_histories/06_approved_order.json" in text
    assert (kernel_dir() / "saved_histories" / "06_approved_order.json").is_file()
    assert "(deterministic)" in text
    assert "does NOT replay on this code at event " in text
    assert (
        "(ActivityTaskScheduled process_payment): [TMPRL1100] Nondeterminism error: Activity "
        "type of scheduled event 'process_payment' does not match"
    ) in text


KEY_OUTPUTS = {
    "00_setup": setup_key_outputs,
    "01_first_order": first_order_key_outputs,
    "02_human_approval": human_approval_key_outputs,
    "03_failures_and_compensation": failures_key_outputs,
    "06_histories_as_dataframes": histories_key_outputs,
    "04_durability": durability_key_outputs,
    "08_beyond_the_basics": beyond_the_basics_key_outputs,
}


@pytest.mark.parametrize("amount", [1000.0, 1000.01])  # the threshold, either side
def test_first_order_explains_any_amount(amount: float, notebook_server: NotebookServer) -> None:
    result = run(
        "01_first_order", notebook_server, {"ORDER_AMOUNT": amount, "MOCK_DELAY_SECONDS": 0.2}
    )
    assert "Result: Order processed successfully" in result.text
    if amount > 1000:
        assert "over $1,000: the workflow will wait" in result.text
        assert "waits for a decision: approved it with the approve_order signal" in result.text
    else:
        assert "not over $1,000: no approval is needed" in result.text
    assert "Your turn" in result.text


@pytest.mark.parametrize(
    ("amount", "approve", "ending"),
    [
        (1000.0, True, "completed"),
        (1000.01, True, "completed"),
        (1500.0, False, "rejected"),
        (1500.0, None, "approval_timed_out"),
    ],
)
def test_human_approval_follows_the_decision(
    amount: float, approve: bool | None, ending: str, notebook_server: NotebookServer
) -> None:
    result = run(
        "02_human_approval",
        notebook_server,
        {"ORDER_AMOUNT": amount, "APPROVE": approve, **FAST_02},
    )
    assert f"APPROVE = {approve!r} -> {ending}" in result.text, result.text
    if amount <= 1000:
        assert "does not need approval" in result.text
        assert "requires_approval: False" in result.text
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


@pytest.mark.parametrize(
    ("fail_step", "transient", "compensations"),
    [
        (None, 0, "none"),
        ("inventory", 1, "none"),
        ("payment", 1, "['release_inventory']"),
        ("delivery", 1, "['refund_payment', 'release_inventory']"),
    ],
)
def test_failures_notebook_runs_for_every_fail_step(
    fail_step: str | None, transient: int, compensations: str, notebook_server: NotebookServer
) -> None:
    result = run(
        "03_failures_and_compensation",
        notebook_server,
        {"FAIL_STEP": fail_step, "TRANSIENT_FAILURES": transient, "MOCK_DELAY_SECONDS": 0.0},
    )
    assert f"1 charge(s) of $250.00 after {transient + 1} payment attempt(s)" in result.text
    if fail_step is None:
        assert result.text.count("completed - Order processed successfully") == 2
    else:
        assert f"compensated - Order compensated: the {fail_step} step failed" in result.text
    assert f"Compensations, in the order they ran: {compensations}" in result.text
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


def test_histories_notebook_runs_without_failures(notebook_server: NotebookServer) -> None:
    result = run(
        "06_histories_as_dataframes",
        notebook_server,
        {"FAIL_STEP": None, "TRANSIENT_FAILURES": 0, "MOCK_DELAY_SECONDS": 0.0},
    )
    assert "(deterministic)" in result.text
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


def test_first_order_runs_all_twice_in_one_kernel(notebook_server: NotebookServer) -> None:
    rounds = run_all_in_one_kernel(
        "01_first_order", notebook_server, {"MOCK_DELAY_SECONDS": 0.0}, times=2
    )
    started = [re.search(r"Started (order-workflow-ORDER-\w+)", text) for text in rounds]
    assert all(started) and started[0][1] != started[1][1], "the second round needs a new order"
    for text in rounds:
        assert "Result: Order processed successfully" in text
        assert "in-kernel worker" not in text, text


def test_human_approval_runs_all_twice_in_one_kernel(notebook_server: NotebookServer) -> None:
    # The second round meets the first one's leftovers: a worker started again, the
    # exercise's module written before.
    rounds = run_all_in_one_kernel("02_human_approval", notebook_server, FAST_02, times=2)
    for text in rounds:
        assert "APPROVE = True -> completed: Order processed successfully" in text
        assert "Signals in its history: 1" in text
        assert 'Ignored: [\'approve_order("yes") ignored' in text  # a new CLI order each round
        assert "clicking Approve for you" in text
        assert "in-kernel worker" not in text, text


@pytest.mark.parametrize(
    ("name", "parameters", "line"),
    [
        ("06_histories_as_dataframes", {"MOCK_DELAY_SECONDS": 0.0}, "(deterministic)"),
        (
            "08_beyond_the_basics",
            {"MOCK_DELAY_SECONDS": 0.0},
            "Deleted the schedule ledger-report.",
        ),
    ],
)
def test_histories_and_beyond_run_all_twice_in_one_kernel(
    name: str, parameters: dict[str, Any], line: str, notebook_server: NotebookServer
) -> None:
    for text in run_all_in_one_kernel(name, notebook_server, parameters, times=2):
        assert line in text, text
        assert "in-kernel worker" not in text, text


@pytest.mark.parametrize(
    ("name", "parameters", "line"),
    [
        ("01_first_order", {"ORDER_AMOUNT": "500"}, "ORDER_AMOUNT = '500': must be a number"),
        (
            "02_human_approval",
            {"APPROVAL_TIMEOUT_SECONDS": 0},
            "APPROVAL_TIMEOUT_SECONDS = 0: the approval timeout must be a number of seconds"
            " above 0",
        ),
        (
            "03_failures_and_compensation",
            {"FAIL_STEP": "paymnet"},
            "FAIL_STEP = 'paymnet': unknown failure step 'paymnet'; use one of inventory, payment",
        ),
        ("04_durability", {"ORDER_AMOUNT": 0}, "ORDER_AMOUNT = 0: must be a finite amount"),
        ("07_change_the_workflow", {"WAIT_SECONDS": "10"}, "WAIT_SECONDS = '10': must be a number"),
    ],
)
def test_a_bad_parameter_stops_at_setup_with_one_line(
    name: str, parameters: dict[str, Any], line: str, notebook_server: NotebookServer
) -> None:
    nb = load(name, parameters)
    client = notebook_client(nb)
    with pytest.raises(CellExecutionError):
        client.execute(env=notebook_server.env)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    setup = code[2]  # after the parameters and the injected ones
    assert not any(cell.get("outputs") for cell in code[3:]), "Run All went past the setup"
    shown = output_text(setup)
    assert (
        f"InvalidParameter: Fix the parameters cell, then run it and this cell again: {line}"
        in shown
    )
    assert "Traceback" not in shown and "most recent call last" not in shown, shown
    assert "Connected to Temporal" not in shown  # refused before anything started


def test_durability_kill_cells_clicked_twice_leave_one_worker_then_none(
    notebook_server: NotebookServer,
) -> None:
    before = worker_processes_alive(notebook_server)
    parameters = {"MOCK_DELAY_SECONDS": 1.0}
    *_, start_twice, kill_1, kill_2 = run_cells(
        "04_durability",
        notebook_server,
        ["05-02", "05-04", "05-12", "05-12", "05-14", "05-14"],
        parameters,
    )
    killed = re.findall(
        r"Killed (\S+) with SIGKILL during process_payment \(attempt 1\)\. "
        r"Still alive: False",
        kill_1 + kill_2,
    )
    # The second click on the start cell reused the process; the second kill needed a new one.
    assert "is polling" in start_twice and "Stopped the worker process" not in start_twice
    assert len(killed) == 2 and killed[0] != killed[1], kill_1 + kill_2
    # None left once the kernel has shut down.
    assert worker_processes_alive(notebook_server) == before


PICKER_NOT_AN_ACTIVITY = """
async def pick_items_resumable(pick_list: PickList) -> PickingReport:
    return PickingReport(pick_list.order_id, pick_list.units, activity.info().attempt, 0)

answer = pick_items_resumable
"""


def test_durability_exercise_names_a_missing_activity_defn_in_one_line(
    notebook_server: NotebookServer,
) -> None:
    shown = check_with_answer(
        "04_durability", notebook_server, ["05-02", "05-04"], PICKER_NOT_AN_ACTIVITY
    )
    assert "NotYet: Not quite yet" in shown, shown
    assert (
        'Hint: pick_items_resumable is no activity yet: put @activity.defn(name="pick_items") '
        "above it"
    ) in shown
    assert "Traceback" not in shown and len(shown.strip().splitlines()) == 1, shown


def test_beyond_the_basics_cells_run_again_stay_right(notebook_server: NotebookServer) -> None:
    outputs = run_cells(
        "08_beyond_the_basics",
        notebook_server,
        [
            "all",
            "08-08-start-split",
            "08-10-children",
            "08-12-result",
            "08-22-delete-schedule",
            "08-24-exercise-bundle",
            "08-25-check-bundle",
        ],
        {"MOCK_DELAY_SECONDS": 0.0},
        solutions=True,
    )
    # Part 1 again made a second big order for the customer, the schedule deleted twice is
    # no error, and the exercise's bundle runs again with new orders.
    assert "was deleted already" in outputs[-3]
    assert "Well done" in outputs[-1], outputs[-1]


def test_beyond_the_basics_approves_a_sub_order_over_1000(notebook_server: NotebookServer) -> None:
    # One product over $1000: its child workflow waits for approval, as any order does.
    result = run(
        "08_beyond_the_basics",
        notebook_server,
        {"ITEMS": [("PROD-001", 1, 1500.0), ("PROD-002", 2, 10.0)], "MOCK_DELAY_SECONDS": 0.0},
    )
    assert (
        len(
            re.findall(
                r"Sub-order ORDER-[\w-]+ is over \$1000 and would wait for a person: "
                r"approved it\.",
                result.text,
            )
        )
        == 1
    ), result.text
    assert re.search(r"ORDER-\w+ \(\$1520\.00\): completed", result.text)
    assert "Your turn" in result.text
    assert_no_worker_trouble(result)


def test_human_approval_live_demo_waits_for_the_instructors_own_signal(
    notebook_server: NotebookServer,
) -> None:
    # The instructor sets the knob in section 5's cell to None: the notebook sends nothing, the
    # instructor signals from a terminal, and the next cell sees that one signal only.
    nb = load("02_human_approval", FAST_02)
    live = next(c for c in nb.cells if "TERMINAL_DELAY_SECONDS = 3.0" in c.source)
    live.source = live.source.replace(
        "TERMINAL_DELAY_SECONDS = 3.0", "TERMINAL_DELAY_SECONDS = None"
    )
    watch = nb.cells[nb.cells.index(live) + 2]
    client = notebook_client(nb)
    with client.setup_kernel(env=notebook_server.env):
        for index, cell in enumerate(nb.cells[: nb.cells.index(live) + 1]):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        printed = output_text(live)
        assert "Nothing is sent for you. In a terminal, type:" in printed, printed
        command = re.search(r"temporal workflow signal --workflow-id (\S+) .*--input true", printed)
        assert command, printed
        temporal(notebook_server, *command[0].split()[1:])  # as typed in the terminal
        client.execute_cell(watch, nb.cells.index(watch))
    shown = output_text(watch)
    assert "Order processed successfully" in shown and "Signals in its history: 1" in shown, shown
