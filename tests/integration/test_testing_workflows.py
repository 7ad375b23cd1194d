"""Notebook 05 (testing workflows), executed top to bottom under nbclient as Run All would.

The notebook starts its own time-skipping test servers; it needs no dev server and no other
notebook: it replays and saves the histories it records itself. Each test runs it from a
folder of its own, so that the test decides what `saved_histories/` holds: nothing (05 run
on its own), or also a history of a workflow type the notebook does not know (a learner's
workflow from 07), which the pytest file skips. The files its cells write, the pytest file
and the changed workflow's module, land in that folder too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from order_management.shared import DEFAULT_APPROVAL_TIMEOUT_SECONDS
from tests.helpers import notebooks as notebook_runs
from tests.helpers.notebooks import (
    ANSI,
    NOTEBOOK_DIR,
    NotebookServer,
    check_with_answer,
    run,
    run_all_in_one_kernel,
    tagged,
)
from tests.record_histories import HISTORIES

pytestmark = pytest.mark.notebook

NAME = "05_testing_workflows"
UNKNOWN_TYPE = "ShopOrder"  # the workflow a learner writes in notebook 07
REPLAY_FAILURE = (
    "Replay failed: [TMPRL1100] Nondeterminism error: Activity type of scheduled "
    "event 'reserve_inventory' does not match activity type of activity command "
    "'process_payment'\n"
)
OWN_TESTS = 3  # the pytest file's tests besides one replay per saved history


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notebooks folder holding 05 alone; tests/helpers/notebooks.py runs it from there."""
    shutil.copy(NOTEBOOK_DIR / f"{NAME}.ipynb", tmp_path)
    monkeypatch.setattr(notebook_runs, "NOTEBOOK_DIR", tmp_path)
    return tmp_path


def pytest_summary(text: str) -> str:
    """The summary line of the pytest run in the last cell, e.g. `5 passed in 5.1s`."""
    summary = re.search(r"^\d+ (passed|failed).* in [\d.]+s$", ANSI.sub("", text), re.M)
    assert summary, text
    return summary[0]


def assert_tests_in_cells_pass(text: str) -> None:
    timeout = f"{DEFAULT_APPROVAL_TIMEOUT_SECONDS:g}"
    assert f"approval_timed_out: No approval within {timeout} seconds" in text, text
    wall = re.search(r"Wall time of the wait: (\d+\.\d\d) s", text)
    assert wall, text
    print(f"The time-skipping cell waited {wall[1]} s for a {timeout} s approval timeout")
    # The history table: the approval timer fired a whole timeout after it started.
    timer = str(pd.Timedelta(seconds=DEFAULT_APPROVAL_TIMEOUT_SECONDS))
    assert re.search(rf"TimerFired\s+{re.escape(timer)}", text), text
    assert "Compensations, in the order they ran: ['release_inventory']" in text
    assert (
        "Activities in the history: reserve_inventory -> process_payment -> release_inventory"
    ) in text
    # ActivityEnvironment: the retried payment returned the first attempt's transaction.
    charged = re.search(r"Attempt 1 charged (TXN-\w+); attempt 2 returned (TXN-\w+)", text)
    assert charged and charged[1] == charged[2], text
    # Its own two histories replay, and are saved for the pytest file.
    saved = re.findall(
        r"order-workflow-ORDER-\w+: replays with today's code; saved as "
        r"saved_histories/order-workflow-ORDER-\w+\.json",
        text,
    )
    assert len(saved) == 2, text
    assert REPLAY_FAILURE in text, text  # the reason, in one line


def test_with_solutions_checks_pass_and_pytest_skips_unknown_types(
    notebook_server: NotebookServer, folder: Path
) -> None:
    saved = folder / "saved_histories"
    saved.mkdir()
    learners = (
        (HISTORIES / "approved.json")
        .read_text()
        .replace('"name": "OrderWorkflow"', f'"name": "{UNKNOWN_TYPE}"', 1)
    )
    (saved / "07_before_the_patch.json").write_text(learners)
    result = run(NAME, notebook_server, solutions=True)
    text = result.text
    assert_tests_in_cells_pass(text)
    assert text.count("Well done") == len(tagged(result.nb, "check")) == 2, text
    assert "Your turn" not in text
    # The file's own tests, a replay of each history the notebook saved, the unknown one skipped.
    assert len(list(saved.glob("*.json"))) == 3
    assert re.fullmatch(rf"{OWN_TESTS + 2} passed, 1 skipped in [\d.]+s", pytest_summary(text))


def test_on_its_own_runs_all_twice(notebook_server: NotebookServer, folder: Path) -> None:
    first, second = run_all_in_one_kernel(NAME, notebook_server, {}, times=2)
    for text in (first, second):
        assert_tests_in_cells_pass(text)
        assert text.count("Your turn") == 2
    # Each round saves its two histories; the pytest file replays all of them.
    assert re.fullmatch(rf"{OWN_TESTS + 2} passed in [\d.]+s", pytest_summary(first)), first
    assert re.fullmatch(rf"{OWN_TESTS + 4} passed in [\d.]+s", pytest_summary(second)), second
    assert len(list((folder / "saved_histories").glob("*.json"))) == 4


RETRIED_MOCK = """
@activity.defn(name="initiate_delivery")
async def refused_delivery(order: Order) -> str:
    raise ApplicationError("no carrier can take the parcel")  # retryable: the mistake

answer = refused_delivery
"""
TEST_THAT_CANNOT_FAIL = """
async def test_pick_items_runs():
    await ActivityEnvironment().run(pick_items, PickList(new_order_id("TEST"), units=2))

answer = test_pick_items_runs
"""


@pytest.mark.parametrize(
    ("k", "answer", "hint"),
    [
        (1, RETRIED_MOCK, "initiate_delivery failed and Temporal retries it (attempt "),
        (2, TEST_THAT_CANNOT_FAIL, "your test also passes for a pick_items that ignores"),
    ],
    ids=["retryable mock", "test that cannot fail"],
)
def test_a_wrong_answer_gets_its_hint_in_one_line(
    notebook_server: NotebookServer, folder: Path, k: int, answer: str, hint: str
) -> None:
    shown = check_with_answer(NAME, notebook_server, ["08-02", "08-04"], answer, k)
    assert "NotYet: Not quite yet" in shown and f"Hint: {hint}" in shown, shown
    assert "Traceback" not in shown and len(shown.strip().splitlines()) == 1, shown
