"""The production deep dives, 09 to 11: errors and timeouts, cancellation and continue-as-new,
workflow ids and with-start.

Each notebook runs top to bottom with nbclient against a dev server the first one starts,
once with its exercise solved and once untouched, and must show what its prose promises: the
one-line errors, the failure chains, each timeout firing, the cancelled order's clean-up, the
chain of runs, the id policies' answers. Then each exercise's check is given a wrong answer a
learner would write, in a live kernel, and must refuse it with its hint in one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.notebooks import (
    SOLUTIONS,
    Kernel,
    NotebookServer,
    assert_no_worker_trouble,
    load,
    output_text,
    run,
    tagged,
)

pytestmark = pytest.mark.notebook

ERRORS = "09_errors_and_timeouts"
CANCELLATION = "10_cancellation_and_continue_as_new"
IDS = "11_workflow_ids_and_with_start"


def cell(nb: Any, name: str) -> Any:
    """The notebook's cell named `name`: its id is numbered, then named (09-12-failure-chain)."""
    [found] = [c for c in nb.cells if c.id.split("-", 2)[-1] == name]
    return found


def shown(nb: Any, name: str) -> str:
    return output_text(cell(nb, name))


def assert_one_line(text: str) -> None:
    assert "Traceback" not in text and "most recent call last" not in text, text


# -- what each notebook must show ---------------------------------------------------------


def errors_key_outputs(nb: Any) -> None:
    first = shown(nb, "first-checkout")
    assert "Result: RESERVED-socks, PAY-20.00" in first
    # workflow.logger and activity.logger, at INFO, each line saying who logs
    assert re.search(r"Checkout checkout-ORDER-\w+: checkout of socks for \$20\.00", first)
    for attempt in (1, 2, 3):
        assert re.search(
            rf"reserve_stock \(activity of Checkout checkout-ORDER-\w+, attempt {attempt}\): "
            rf"reserving socks, attempt {attempt}",
            first,
        ), first
    history = shown(nb, "retries-history")
    assert "after 2 failed attempts" in history  # the retries' only trace in the history
    chain = shown(nb, "failure-chain")
    assert (
        "gone $20.0: ActivityError in reserve_stock (NON_RETRYABLE_FAILURE) <- "
        "ApplicationError type='OutOfStock': no gone left"
    ) in chain
    assert (
        "socks $900.0: ActivityError in charge_card (NON_RETRYABLE_FAILURE) <- "
        "ApplicationError type='CardDeclined': card declined for $900.00"
    ) in chain
    assert (
        "charge_card (activity of Checkout" in chain
        and "attempt 2): Completing" not in (chain.split("charge_card")[-1])
    )
    failures = shown(nb, "three-failures")
    assert "WorkflowFailureError: the workflow failed: nothing to refund: $0.0" in failures
    assert re.search(
        r"Refund refund-ORDER-\w+: workflow task failed: KeyError: 'refnud' "
        r"\(at shop\.py:\d+ in run\)",
        failures,
    ), failures
    assert "The buggy refund's status: RUNNING" in failures
    assert "TimeoutError: no answer before the timeout." in failures
    assert_one_line(failures)
    side_by_side = shown(nb, "side-by-side")
    for event in ("ActivityTaskFailed", "WorkflowExecutionFailed", "WorkflowTaskFailed"):
        assert event in side_by_side
    timeouts = shown(nb, "timeouts")
    for line in (
        "start_to_close: START_TO_CLOSE timeout; retrying stopped: MAXIMUM_ATTEMPTS_REACHED",
        "schedule_to_close: SCHEDULE_TO_CLOSE timeout; retrying stopped: TIMEOUT",
        "schedule_to_start: SCHEDULE_TO_START timeout; retrying stopped: TIMEOUT",
        "heartbeat: HEARTBEAT timeout; retrying stopped: MAXIMUM_ATTEMPTS_REACHED",
    ):
        assert line in timeouts, timeouts
    took = {
        kind: float(seconds)
        for kind, seconds in re.findall(
            r"three\s+(\w+) labels took ([\d.]+) s", shown(nb, "labels")
        )
    }
    assert took["blocking"] >= 2.9  # three one-second sleeps, one after another
    assert took["async"] < 2.9 and took["sync"] < 2.9  # the same three, overlapping
    assert (
        "ValueError: label_sync is a plain def: a Worker runs it only with an executor, pass "
        "activity_executor=ThreadPoolExecutor() to Worker(...), or make it `async def "
        "label_sync(...)`"
    ) in shown(nb, "no-executor")


def cancellation_key_outputs(nb: Any) -> None:
    stopped = shown(nb, "cancel-terminate")
    assert "cancel: CancelledError: Workflow cancelled; status CANCELED" in stopped
    assert re.search(r"terminate: TerminatedError: .*; status TERMINATED", stopped)
    # Both activities heard of it through a heartbeat; only the cancelled order cleaned up.
    assert stopped.count("stopped: items back on the shelf") == 2, stopped
    assert stopped.count("released the stock held for") == 1, stopped
    histories = shown(nb, "cancel-histories")
    for event in (
        "WorkflowExecutionCancelRequested",
        "ActivityTaskCanceled: pack_parcel",
        "ActivityTaskScheduled: release_stock",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionTerminated",
    ):
        assert event in histories, histories
    points = 10 * int(tagged(nb, "parameters")[0].source.split("POINTS_SIGNALS = ")[1].split()[0])
    closed = re.search(
        r"Closed: Account\(customer='CUSTOMER-\w+', points=(\d+), run=(\d+)\)", shown(nb, "loyalty")
    )
    assert closed and int(closed[1]) == points and int(closed[2]) >= 2, shown(nb, "loyalty")
    runs = re.findall(r"run \S+: (\w+), (\d+) events", shown(nb, "runs"))
    assert [status for status, _ in runs].count("COMPLETED") == 1, runs
    continued = [int(events) for status, events in runs if status == "CONTINUED_AS_NEW"]
    assert len(continued) == int(closed[2]) - 1 and all(events >= 40 for events in continued)


def ids_key_outputs(nb: Any) -> None:
    conflict = shown(nb, "conflict")
    assert re.search(r"Second start refused: cart-ANN-\w+ already runs", conflict)
    assert "USE_EXISTING returned the same run: True" in conflict
    reuse = shown(nb, "reuse")
    assert "REJECT_DUPLICATE: refused (WorkflowAlreadyStartedError)" in reuse
    assert "ALLOW_DUPLICATE_FAILED_ONLY: refused (WorkflowAlreadyStartedError)" in reuse
    assert "ALLOW_DUPLICATE: a new run" in reuse
    with_signal = shown(nb, "signal-with-start")
    assert len(set(re.findall(r"added \w+: run (\S+)", with_signal))) == 1, with_signal
    assert "Bob's cart: ['socks', 'hat']" in with_signal
    with_update = shown(nb, "update-with-start")
    added = re.findall(r"added (\w+): (\d) item\(s\) in run (\S+)", with_update)
    assert [(item, count) for item, count, _ in added] == [("scarf", "1"), ("gloves", "2")]
    assert len({run_id for *_, run_id in added}) == 1


KEY_OUTPUTS: dict[str, Callable[[Any], None]] = {
    ERRORS: errors_key_outputs,
    CANCELLATION: cancellation_key_outputs,
    IDS: ids_key_outputs,
}


@pytest.mark.parametrize("solutions", [True, False], ids=["solved", "untouched"])
@pytest.mark.parametrize("name", list(KEY_OUTPUTS))
def test_deep_dive_runs_top_to_bottom(
    name: str, solutions: bool, notebook_server: NotebookServer
) -> None:
    result = run(name, notebook_server, solutions=solutions)
    assert_no_worker_trouble(result)
    checks = len(tagged(result.nb, "check"))
    if solutions:
        assert result.text.count("Well done") == checks and "Your turn" not in result.text
    else:  # a learner who skips the exercise: its check only says what to do
        assert result.text.count("Your turn") == checks and "Well done" not in result.text
    KEY_OUTPUTS[name](result.nb)


# -- each exercise refuses a wrong answer with its hint ------------------------------------


def without(text: str, part: str) -> str:
    assert part in text, f"the solution no longer contains {part!r}"
    return text.replace(part, "")


def solution(name: str) -> str:
    return (SOLUTIONS / f"{name}_1.py").read_text()


WRONG_ANSWERS = {
    # Retries the suspected fraud three times, then holds it: right result, wrong attempts.
    "fraud retried": (
        ERRORS,
        ["parameters", "setup", "shop-module"],
        lambda: without(
            solution(ERRORS),
            ',\n                              non_retryable_error_types=["FraudSuspected"]',
        ),
        "non_retryable_error_types=['FraudSuspected']",
    ),
    # Lets the ActivityError fail the workflow.
    "fraud not caught": (
        ERRORS,
        ["parameters", "setup", "shop-module"],
        lambda: solution(ERRORS).replace('return "held for review"', "raise"),
        "return 'held for review'",
    ),
    # Cancelled, but no clean-up.
    "no clean-up": (
        CANCELLATION,
        ["parameters", "setup", "packing-module"],
        lambda: (
            solution(CANCELLATION)
            .replace("await workflow.execute_activity(", "(")
            .replace("start_to_close_timeout=timedelta(seconds=10))", ")")
        ),
        "`except asyncio.CancelledError:` then `await workflow.execute_activity(release_stock",
    ),
    # WithStartWorkflowOperation without its required conflict policy: a TypeError.
    "no conflict policy": (
        IDS,
        ["parameters", "setup", "cart-module", "worker"],
        lambda: without(
            solution(IDS),
            ",\n                                       "
            "id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING",
        ),
        "id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING",
    ),
}


@pytest.mark.parametrize("mistake", list(WRONG_ANSWERS))
def test_a_wrong_answer_fails_its_check_with_the_hint(mistake: str, kernel: Kernel) -> None:
    name, cells_before, wrong, hint = WRONG_ANSWERS[mistake]
    nb = load(name)
    for before in cells_before:
        kernel.run(cell(nb, before).source)
    kernel.run(wrong())
    refused = kernel.run(cell(nb, "check").source, fails=True)
    assert "NotYet: Not quite yet" in refused and hint in refused, refused
    assert_one_line(refused)
