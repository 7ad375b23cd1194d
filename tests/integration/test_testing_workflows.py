"""Notebook 08 (testing workflows), executed top to bottom under nbclient as Run All would.

The notebook starts its own time-skipping test servers; it needs no dev server. Each test runs
it from a folder of its own, so that the test decides what `saved_histories/` holds: the
histories this project records for its replay tests plus one of a workflow type the notebook
does not know (a learner's workflow from 07), or nothing at all (08 run on its own, which then
records one itself). The files its cells write, the pytest file and the changed workflow's
module, land in that folder too.
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


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notebooks folder holding 08 alone; tests/helpers/notebooks.py runs it from there."""
    shutil.copy(NOTEBOOK_DIR / f"{NAME}.ipynb", tmp_path)
    monkeypatch.setattr(notebook_runs, "NOTEBOOK_DIR", tmp_path)
    return tmp_path


def saved_histories(folder: Path) -> Path:
    """The project's recorded order histories, and one of a type the notebook has no code for."""
    saved = folder / "saved_histories"
    saved.mkdir()
    for path in HISTORIES.glob("*.json"):
        shutil.copy(path, saved)
    learners = (
        (HISTORIES / "approved.json")
        .read_text()
        .replace('"name": "OrderWorkflow"', f'"name": "{UNKNOWN_TYPE}"', 1)
    )
    (saved / "07_before_the_patch.json").write_text(learners)
    return saved


def pytest_summary(text: str) -> str:
    """The summary line of the pytest run in the last cell, e.g. `3 passed in 5.1s`."""
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
    assert REPLAY_FAILURE in text, text  # the reason, in one line


def test_with_solutions_replays_saved_histories_and_skips_unknown_types(
    notebook_server: NotebookServer, folder: Path
) -> None:
    saved = saved_histories(folder)
    result = run(NAME, notebook_server, solutions=True)
    text = result.text
    assert_tests_in_cells_pass(text)
    assert text.count("Well done") == len(tagged(result.nb, "check")) == 2, text
    assert "Your turn" not in text
    recorded = len(list(HISTORIES.glob("*.json")))
    assert (
        f"OrderWorkflow: {recorded} of {recorded} saved histories replay with today's code"
    ) in text, text
    assert f"{UNKNOWN_TYPE}: 1 saved, skipped: this notebook does not have its code" in text
    assert "recorded one" not in text and len(list(saved.glob("*.json"))) == recorded + 1
    # The file's tests: two of its own, one replay per saved history, the unknown type skipped.
    assert re.fullmatch(rf"{2 + recorded} passed, 1 skipped in [\d.]+s", pytest_summary(text))


def test_on_its_own_records_a_history_and_runs_all_twice(
    notebook_server: NotebookServer, folder: Path
) -> None:
    first, second = run_all_in_one_kernel(NAME, notebook_server, {}, times=2)
    for text in (first, second):
        assert_tests_in_cells_pass(text)
        assert text.count("Your turn") == 2
        assert "OrderWorkflow: 1 of 1 saved histories replay with today's code" in text
        assert re.fullmatch(r"3 passed in [\d.]+s", pytest_summary(text)), text
    assert "No saved histories in saved_histories/ yet: run notebooks 04 and 07 first" in first
    assert "No OrderWorkflow history was saved (run notebooks 04 and 07" in first
    # The second round replays the history the first one recorded, and records no other.
    assert "No saved histories" not in second and "recorded one" not in second
    assert len(list((folder / "saved_histories").glob("*.json"))) == 1
