"""Notebook 07, the versioning lab: the learner's own workflow, changed while an order runs.

07 runs with nbclient against a dev server the notebook starts (as in test_run_all.py),
once with the exercise solutions and twice in one kernel with the exercises untouched. The
learner must see each change as a diff, the replay test's nondeterminism error, the order
stuck on a failed workflow task, the patch that fixes it, the old order completing on the
old path, and each mistake of part 4 as one line.

Then the mistakes are made for real in a kernel, the way a learner's own cell makes them
(the cell raises): the kernel must show the same one line. The exercise's check passes with
its solution and answers each likely wrong answer with its hint, in one line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers.notebooks import (
    CELL_TIMEOUT_SECONDS,
    SOLUTIONS,
    Kernel,
    NotebookServer,
    execute,
    kernel_dir,
    load,
    output_text,
    run_all_in_one_kernel,
    tagged,
)

pytestmark = pytest.mark.notebook

NAME = "07_change_the_workflow"
REPLAY_FAILS = (
    "does NOT replay on this code at event 5 (ActivityTaskScheduled check_stock): "
    "[TMPRL1100] Nondeterminism error: Activity type of scheduled event "
    "'check_stock' does not match activity type of activity command 'check_fraud'"
)
SYNTAX_ERROR = re.compile(
    r"SyntaxError: my_shop/activities\.py, line \d+: expected ':' in "
    r"`async def wrap_gift\(order_id: str\) -> str`\. Fix it in the cell that writes that "
    r"file, run that cell, then this one again"
)
TIMED_OUT = "TimeoutError: no answer before the timeout."
NO_WORKER = "this kernel runs no worker"
NOT_REGISTERED = re.compile(
    r"WorkflowFailureError: the workflow failed: its activity wrap_gift failed for good: "
    r"Activity function wrap_gift for workflow gift-\S+ is not registered on this worker"
)


def cell(nb: Any, name: str) -> Any:
    """The notebook's cell named `name`: its id is numbered, then named (07-27-replay-breaks)."""
    [found] = [c for c in nb.cells if c.id.endswith(f"-{name}")]
    return found


def shown(nb: Any, name: str) -> str:
    return output_text(cell(nb, name))


def assert_one_line(text: str) -> None:
    assert "Traceback" not in text and "most recent call last" not in text, text


@pytest.fixture(autouse=True, scope="module")
def notebooks_on_path() -> Iterator[None]:
    """The learner's modules, importable here as a kernel next to the notebooks sees them."""
    sys.path.insert(0, str(kernel_dir()))
    yield
    sys.path.remove(str(kernel_dir()))
    for module in [m for m in sys.modules if m == "my_shop" or m.startswith("my_shop.")]:
        del sys.modules[module]


# -- the whole notebook --------------------------------------------------------------------


def test_versioning_lab_with_solutions(notebook_server: NotebookServer) -> None:
    result = execute(load(NAME, solutions=True), notebook_server)
    nb = result.nb
    # Each change shown as the change: the lines it removes and adds, not the whole file.
    receipt = shown(nb, "add-receipt")
    assert (
        "+++ my_shop/workflow.py" in receipt and "+        await self.step(send_receipt" in receipt
    )
    assert "-        return await self.step(ship_parcel, order_id)" in receipt
    assert "class ShopOrder" not in receipt  # the diff, not the module again
    patched = shown(nb, "replay-patched")
    assert '+        if workflow.patched("fraud-check"):' in patched
    assert REPLAY_FAILS in shown(nb, "replay-breaks")
    stuck = shown(nb, "stuck-order")
    assert "Workflow status: RUNNING" in stuck
    assert "WorkflowTaskFailed" in stuck  # the history table (its columns wrap as text)
    assert "NonDeterministicError: [TMPRL1100] Nondeterminism error" in stuck
    assert re.search(r"shop-OLD-\w+: replays on this code", shown(nb, "replay-patched"))
    assert re.search(r"Old order: TRACK-OLD-\w+", shown(nb, "old-order-completes"))
    side_by_side = shown(nb, "side-by-side")
    assert 'MarkerRecorded: core_patch: patch-data {"id":"fraud-check"' in side_by_side
    assert "ActivityTaskScheduled: check_fraud" in side_by_side
    assert result.text.count("Well done") == len(tagged(nb, "check")) == 1
    assert '+        workflow.deprecate_patch("fraud-check")' in shown(nb, "check-deprecate")
    assert "Your turn" not in result.text
    # Part 4's mistakes, each the kernel's one line, printed by `mistake_expected`.
    assert SYNTAX_ERROR.search(shown(nb, "mistake-syntax"))
    no_worker = shown(nb, "mistake-no-worker")
    assert TIMED_OUT in no_worker and NO_WORKER in no_worker
    assert re.search(r"The order that waited: TRACK-WAIT-\w+", shown(nb, "mistake-no-worker-fixed"))
    sandbox = shown(nb, "mistake-sandbox")
    assert TIMED_OUT in sandbox and NO_WORKER not in sandbox
    assert re.search(
        r"GiftWrap gift-\S+: workflow task failed: the sandbox refused "
        r"datetime\.datetime\.now \(at gift_wrap\.py:\d+ in run\); workflow code "
        r"must replay the same way every time: use workflow\.now\(\) instead",
        sandbox,
    )
    assert NOT_REGISTERED.search(shown(nb, "mistake-unregistered"))
    for name in (
        "mistake-syntax",
        "mistake-no-worker",
        "mistake-no-worker-fixed",
        "mistake-sandbox",
        "mistake-unregistered",
    ):
        assert_one_line(shown(nb, name))


def test_versioning_lab_runs_all_twice_in_one_kernel_untouched(
    notebook_server: NotebookServer,
) -> None:
    rounds = run_all_in_one_kernel(NAME, notebook_server, {}, times=2)
    for text in rounds:
        assert REPLAY_FAILS in text
        assert re.search(r"Old order: TRACK-OLD-\w+", text)
        assert re.search(r"The order that waited: TRACK-WAIT-\w+", text)
        assert text.count("Your turn") == 1  # the exercise is left for the learner
        assert SYNTAX_ERROR.search(text) and NOT_REGISTERED.search(text)


# -- the mistakes, made for real: the cell raises, the kernel shows one line ---------------


def learner_kernel(server: NotebookServer, folder: Path) -> Any:
    """A kernel in `folder`, as if the notebook lived there (its my_shop/ too)."""
    client = NotebookClient(
        nbformat.v4.new_notebook(),
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    return client.setup_kernel(env=server.env), client


def run_cells(kernel: Kernel, nb: Any, *names: str) -> None:
    for name in names:
        kernel.run(tagged(nb, name)[0].source if name == "parameters" else cell(nb, name).source)


@pytest.fixture(scope="module")
def shop_kernel(
    notebook_server: NotebookServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Kernel, Any]]:
    """A kernel that ran 07 up to its first worker, in a folder of its own."""
    nb = load(NAME)
    running, client = learner_kernel(notebook_server, tmp_path_factory.mktemp("learner"))
    with running:
        kernel = Kernel(client)
        run_cells(
            kernel, nb, "parameters", "setup", "activities-v1", "workflow-v1", "restart-worker"
        )
        yield kernel, nb


def test_a_typo_in_a_module_stops_the_restart_with_one_line(
    shop_kernel: tuple[Kernel, Any],
) -> None:
    kernel, nb = shop_kernel
    run_cells(kernel, nb, "mistake-syntax-module")
    refused = kernel.run("await restart_worker()", fails=True)
    assert SYNTAX_ERROR.search(refused), refused
    assert_one_line(refused)
    run_cells(kernel, nb, "activities-v1")
    assert "Worker polling" in kernel.run("await restart_worker()")


def test_an_order_on_a_queue_no_worker_polls_times_out_with_one_line(
    shop_kernel: tuple[Kernel, Any],
) -> None:
    kernel, _ = shop_kernel
    refused = kernel.run(
        """
from my_shop.workflow import ShopOrder
order = await client.start_workflow(ShopOrder.run, "NOBODY", id=f"shop-{new_order_id()}",
                                    task_queue="my-shop")  # the mistake: not MY_TASK_QUEUE
await asyncio.wait_for(order.result(), timeout=BROKEN_WAIT_SECONDS)
""",
        fails=True,
    )
    assert TIMED_OUT in refused and "is a worker polling the workflow's task queue?" in refused
    assert_one_line(refused)
    kernel.run("await order.terminate('no worker polls its task queue')")


@pytest.mark.parametrize(
    ("call", "refused", "instead"),
    [
        ("datetime.now()", "datetime.datetime.now", "use workflow.now() instead"),
        ("random.random()", "random.random", "use workflow.random() instead"),
        ("open('card.txt').read()", "open", "do it in an activity"),
    ],
)
def test_a_call_the_sandbox_refuses_says_which_rule_and_what_instead(
    shop_kernel: tuple[Kernel, Any], call: str, refused: str, instead: str
) -> None:
    kernel, nb = shop_kernel
    module = cell(nb, "gift-wrap-clock").source.replace("datetime.now()", call)
    kernel.run(module.replace("from datetime import", "import random\nfrom datetime import"))
    waited = kernel.run(
        f"""
GIFT_QUEUE = f"{{MY_TASK_QUEUE}}-gifts"
{without_mistake_guard(cell(nb, "mistake-sandbox").source)}
""",
        fails=True,
    )
    kernel.run("await gift.terminate('its code breaks a sandbox rule')")
    assert re.search(
        rf"GiftWrap gift-\S+: workflow task failed: the sandbox refused "
        rf"{re.escape(refused)} \(at gift_wrap\.py:\d+ in run\); workflow code must "
        rf"replay the same way every time: {re.escape(instead)}",
        waited,
    ), waited
    assert TIMED_OUT in waited  # the cell's own wait, then the kernel's line for it
    assert_one_line(waited)


def test_an_unregistered_activity_fails_the_workflow_with_one_line(
    shop_kernel: tuple[Kernel, Any],
) -> None:
    kernel, nb = shop_kernel
    run_cells(kernel, nb, "gift-wrap-clock", "gift-wrap-fixed")
    refused = kernel.run(
        f"""
import my_shop.gift_wrap
GIFT_QUEUE = f"{{MY_TASK_QUEUE}}-gifts"
{without_mistake_guard(cell(nb, "mistake-unregistered").source)}
""",
        fails=True,
    )
    assert NOT_REGISTERED.search(refused), refused
    assert_one_line(refused)


def without_mistake_guard(source: str) -> str:
    """The cell as a learner writes it: no `with mistake_expected():`, so the error reaches
    the kernel."""
    lines = source.splitlines()
    at = next(k for k, line in enumerate(lines) if "with mistake_expected():" in line)
    inner = len(lines[at]) - len(lines[at].lstrip()) + 4
    body = [line[4:] if line[:inner].isspace() else line for line in lines[at + 1 :]]
    return "\n".join(lines[:at] + body)


def test_a_cell_run_before_the_modules_exist_says_which_to_run(
    notebook_server: NotebookServer, tmp_path: Path
) -> None:
    nb = load(NAME)
    running, client = learner_kernel(notebook_server, tmp_path)
    with running:
        kernel = Kernel(client)
        run_cells(kernel, nb, "parameters", "setup")
        too_early = kernel.run(cell(nb, "restart-worker").source, fails=True)
        stuck_first = kernel.run(cell(nb, "stuck-order").source, fails=True)
    assert (
        "ModuleNotFoundError: No module named 'my_shop.activities': if a `%%writefile` "
        "cell above writes it, run the cells above this one first"
    ) in too_early
    assert_one_line(too_early)
    assert "Is `old_order` made by a cell above? Run the cells above this one first" in stuck_first


def test_a_change_made_twice_is_made_once(shop_kernel: tuple[Kernel, Any]) -> None:
    kernel, nb = shop_kernel
    run_cells(kernel, nb, "activities-v1", "workflow-v1")
    first = kernel.run(cell(nb, "add-receipt").source)
    again = kernel.run(cell(nb, "add-receipt").source)
    assert "+        await self.step(send_receipt, order_id)" in first
    assert "my_shop/workflow.py: no change (already made)" in again
    assert "Worker polling" in again
    workflow = kernel.run("print(Path('my_shop/workflow.py').read_text())")
    assert workflow.count("send_receipt, order_id") == 1, workflow
    refused = kernel.run(
        'change_module("my_shop/workflow.py", {"await self.step(wrap_gift, order_id)": "pass"})',
        fails=True,
    )
    assert (
        "ModuleChangeError: my_shop/workflow.py has no line `await self.step(wrap_gift, "
        "order_id)`: run the cell that writes it, then this one again"
    ) in refused
    assert_one_line(refused)


# -- the exercise: its check passes with the solution, and hints at each likely mistake --------

DEPRECATE_MISTAKES = {
    # The patched branch left as it is: both orders still replay.
    '"""\nif workflow.patched("fraud-check"):\n    await self.step(check_fraud, order_id)\n"""': (
        "{'old order': True, 'new order': True}"
    ),
    # `deprecate_patch` returns None: under an `if`, check_fraud never runs.
    '"""\nif workflow.deprecate_patch("fraud-check"):\n'
    '    await self.step(check_fraud, order_id)\n"""': "{'old order': True, 'new order': False}",
    # The patch id mistyped: the new order's marker matches no patch.
    '"""\nworkflow.deprecate_patch("fraud_check")\nawait self.step(check_fraud, order_id)\n"""': (
        "{'old order': False, 'new order': False}"
    ),
}


@pytest.fixture(scope="module")
def exercise_kernel(
    notebook_server: NotebookServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Kernel, Any]]:
    """A kernel that ran 07 up to its exercise, untouched, in a folder of its own."""
    nb = load(NAME)
    running, client = learner_kernel(notebook_server, tmp_path_factory.mktemp("exercise"))
    with running:
        kernel = Kernel(client)
        exercise = tagged(nb, "exercise")[0]
        for code in nb.cells[: nb.cells.index(exercise)]:
            if code.cell_type == "code":
                kernel.run(code.source)
        yield kernel, nb


def test_the_exercise_check_passes_with_the_solution(exercise_kernel: tuple[Kernel, Any]) -> None:
    kernel, nb = exercise_kernel
    kernel.run((SOLUTIONS / f"{NAME}_1.py").read_text())
    checked = kernel.run(cell(nb, "check-deprecate").source)
    assert "Well done" in checked, checked


@pytest.mark.parametrize("mistake", DEPRECATE_MISTAKES)
def test_the_exercise_check_hints_at_a_likely_mistake(
    exercise_kernel: tuple[Kernel, Any], mistake: str
) -> None:
    kernel, nb = exercise_kernel
    kernel.run(f"NEXT_STAGE = {mistake}")
    refused = kernel.run(cell(nb, "check-deprecate").source, fails=True)
    print(refused)  # the line a learner reads, for the report
    assert (
        f"NotYet: Not quite yet (your answer: {DEPRECATE_MISTAKES[mistake]}). Hint: the new "
        "order recorded the fraud-check marker"
    ) in refused, refused
    assert_one_line(refused)


def test_the_exercise_check_names_a_typo_in_the_lines(exercise_kernel: tuple[Kernel, Any]) -> None:
    kernel, nb = exercise_kernel
    kernel.run('NEXT_STAGE = "workflow.deprecate_patch(\\"fraud-check\\""')
    refused = kernel.run(cell(nb, "check-deprecate").source, fails=True)
    print(refused)
    assert re.search(
        r"ModuleChangeError: this change would break my_shop/next_stage\.py, line \d+: '\(' was "
        r"never closed in `workflow\.deprecate_patch\(\"fraud-check\"`; fix the new lines",
        refused,
    ), refused
    assert_one_line(refused)
