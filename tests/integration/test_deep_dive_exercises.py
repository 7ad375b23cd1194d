"""The deep dives' exercises (06, 08), as a learner meets them: each check passes with its
solution, and answers each likely mistake with one line that says what to fix (never a
hang or a traceback). The code runs for real: a `Replayer` (06), a worker on a dev server
(08). Notebook 07's exercise is tested with the rest of 07, in test_change_the_workflow.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import SOLUTIONS, Kernel, NotebookServer, load, tagged
from tests.integration.test_change_the_workflow import assert_one_line, learner_kernel

pytestmark = pytest.mark.notebook


def kernel_at_exercise(
    name: str, server: NotebookServer, folder: Path, parameters: dict[str, Any]
) -> Iterator[tuple[Kernel, str]]:
    """A kernel in `folder` that ran `name` up to its (only) exercise, untouched; with the
    source of its check cell."""
    nb = load(name, parameters)
    [exercise] = tagged(nb, "exercise")
    at = nb.cells.index(exercise)
    running, client = learner_kernel(server, folder)
    with running:
        kernel = Kernel(client)
        for cell in nb.cells[:at]:
            if cell.cell_type == "code":
                kernel.run(cell.source)
        yield kernel, nb.cells[at + 1].source


# -- the exercises and the mistakes tried ------------------------------------------------

HISTORIES = "06_histories_as_dataframes"
REPLAY_HINT = "Hint: result = await Replayer(workflows=[OrderWorkflow]).replay_workflow(history"
REPLAY_MISTAKES = {
    "raises on a failed replay": (
        """
async def replays(history):
    await Replayer(workflows=[OrderWorkflow]).replay_workflow(history)
    return True
""",
        "'edited history': \"raised NondeterminismError ([TMPRL1100] Nondeterminism error: "
        "Activity type of scheduled event",
    ),
    "returns the result": (
        """
async def replays(history):
    return await Replayer(workflows=[OrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False)
""",
        "'a WorkflowReplayResult: return whether its replay_failure is None'",
    ),
    "returns the failure": (
        """
async def replays(history):
    result = await Replayer(workflows=[OrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False)
    return result.replay_failure
""",
        "{'approved order': None, 'edited history': 'a NondeterminismError object: return "
        "True or False'}",
    ),
    "forgets an await": (
        """
async def replays(history):
    return Replayer(workflows=[OrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False)
""",
        "'a coroutine: await it inside your function'",
    ),
}


BEYOND = "08_beyond_the_basics"
BUNDLE_HEAD = """%%writefile my_shop/bundle.py
import asyncio
import uuid

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from order_management.shared import Order
    from order_management.workflow import OrderWorkflow


@workflow.defn
class GiftBundle:
    @workflow.run
    async def run(self, orders: list[Order]) -> list[str]:
"""
BUNDLE_MISTAKES = {
    "children not awaited": (
        """
        results = [workflow.execute_child_workflow(OrderWorkflow.run, order,
                                                   id=f"order-workflow-{order.order_id}")
                   for order in orders]
        return [result.status for result in results]
""",
        "its workflow task failed: ",
    ),
    "random ids from uuid": (
        """
        results = await asyncio.gather(*(
            workflow.execute_child_workflow(OrderWorkflow.run, order, id=f"gift-{uuid.uuid4()}")
            for order in orders))
        return [result.status for result in results]
""",
        "its workflow task failed: ",
    ),
    "whole results returned": (
        """
        return await asyncio.gather(*(
            workflow.execute_child_workflow(OrderWorkflow.run, order,
                                            id=f"order-workflow-{order.order_id}")
            for order in orders))
""",
        "its result is not the type its run method declares: Failed converting list[str]",
    ),
}


@dataclass(frozen=True)
class Exercise:
    """A deep dive's exercise: how its notebook runs up to it, the hint every wrong answer
    shows, and likely mistakes (the code a learner writes, part of the line it must print)."""

    parameters: dict[str, Any]
    hint: str
    mistakes: dict[str, tuple[str, str]]


EXERCISES = {
    HISTORIES: Exercise({"MOCK_DELAY_SECONDS": 0.0}, REPLAY_HINT, REPLAY_MISTAKES),
    BEYOND: Exercise(
        {"MOCK_DELAY_SECONDS": 0.0},
        "Hint: await asyncio.gather(*(workflow.execute_child_workflow(",
        {
            name: (BUNDLE_HEAD + body.strip("\n"), line)
            for name, (body, line) in BUNDLE_MISTAKES.items()
        },
    ),
}


@pytest.fixture(scope="module")
def kernel_for(
    notebook_server: NotebookServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], tuple[Kernel, str]]]:
    """A kernel per notebook, run up to its exercise when a test first asks for it."""
    with ExitStack() as stack:

        @functools.cache
        def at_exercise(name: str) -> tuple[Kernel, str]:
            running = kernel_at_exercise(
                name, notebook_server, tmp_path_factory.mktemp(name), EXERCISES[name].parameters
            )
            stack.callback(running.close)
            return next(running)

        yield at_exercise


@pytest.mark.parametrize("name", EXERCISES)
def test_check_passes_with_the_solution(
    kernel_for: Callable[[str], tuple[Kernel, str]], name: str
) -> None:
    kernel, check = kernel_for(name)
    kernel.run((SOLUTIONS / f"{name}_1.py").read_text())
    assert "Well done" in kernel.run(check)


@pytest.mark.parametrize("name", EXERCISES)
def test_check_leaves_the_placeholder_to_the_learner(
    kernel_for: Callable[[str], tuple[Kernel, str]], name: str
) -> None:
    kernel, check = kernel_for(name)
    kernel.run(tagged(load(name), "exercise")[0].source)
    assert "Your turn: " in kernel.run(check)


@pytest.mark.parametrize(
    ("name", "mistake"), [(name, m) for name, e in EXERCISES.items() for m in e.mistakes]
)
def test_check_names_a_likely_mistake(
    kernel_for: Callable[[str], tuple[Kernel, str]], name: str, mistake: str
) -> None:
    kernel, check = kernel_for(name)
    code, line = EXERCISES[name].mistakes[mistake]
    kernel.run(code)
    refused = kernel.run(check, fails=True)
    print(refused)  # the line a learner reads
    assert "NotYet: Not quite yet (your answer: " in refused and line in refused, refused
    assert EXERCISES[name].hint in refused
    assert_one_line(refused)
