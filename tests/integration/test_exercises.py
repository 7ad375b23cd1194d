"""The core track's exercises whose answer is Temporal code (01, 02, 03), in a live kernel: each
check passes with its solution and fails with its hint on a wrong answer, and each mistake a
learner is likely to make prints one line that says what to fix, never a hang or a trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.notebooks import SOLUTIONS, Kernel, kernel_dir
from tests.helpers.worker_mistakes import MISTAKES

pytestmark = pytest.mark.notebook

SETUP_01 = """
from temporalio import activity
from temporalio.worker import Worker
from order_management.exercise_workflows import ConfirmationWorkflow
from order_management.shared import Order
order = make_order(120.0, new_order_id())
CONFIRMATION_QUEUE = confirmation_queue()
"""

CHECK_01 = """
answer = await try_confirmation(confirmation_worker, order)
self_check(answer, lambda line: isinstance(line, str) and order.order_id in line,
           hint="return a string that contains order.order_id")
"""


def _one_line(shown: str, line: str) -> None:
    assert line in shown, shown
    assert "Traceback" not in shown and "most recent call last" not in shown, shown


@pytest.fixture
def kernel_01(kernel: Kernel) -> Kernel:
    kernel.run(SETUP_01)
    return kernel


def test_01_solution_runs_the_learners_activity_on_their_worker(kernel_01: Kernel) -> None:
    kernel_01.run((SOLUTIONS / "01_first_order_1.py").read_text())
    shown = kernel_01.run(CHECK_01)
    assert "ACTIVITY_TASK_COMPLETED" in shown and "Well done" in shown, shown


def test_01_exercise_cell_run_twice_then_checked_passes(kernel_01: Kernel) -> None:
    # Each run builds a Worker on a new queue: the SDK refuses a second one on the same queue.
    solution = (SOLUTIONS / "01_first_order_1.py").read_text()
    kernel_01.run(solution)
    kernel_01.run(solution)
    assert "Well done" in kernel_01.run(CHECK_01)


def test_01_untouched_exercise_only_says_your_turn(kernel_01: Kernel) -> None:
    kernel_01.run("confirmation_worker = ...")
    assert "Your turn" in kernel_01.run(CHECK_01)


def _worker_with(activity_source: str, registration: str) -> str:
    return f"""
@activity.defn
{activity_source}

confirmation_worker = Worker(client, task_queue=CONFIRMATION_QUEUE, {registration})
"""


RIGHT_ACTIVITY = """async def send_confirmation(order: Order) -> str:
    return f"Confirmation for {order.order_id}"
"""

MISTAKES_01 = {
    "a wrong answer": (
        _worker_with(
            'async def send_confirmation(order: Order) -> str:\n    return "sent"',
            "workflows=[ConfirmationWorkflow], activities=[send_confirmation]",
        ),
        "NotYet: Not quite yet (your answer: 'sent'). Hint: return a string that contains "
        "order.order_id",
    ),
    "the activity not registered": (
        _worker_with(RIGHT_ACTIVITY, "workflows=[ConfirmationWorkflow]"),
        "NotYet: No activity named 'send_confirmation' is registered on your worker: mark the "
        "function @activity.defn and pass activities=[send_confirmation] to Worker(...)",
    ),
    "the workflow not registered": (
        _worker_with(RIGHT_ACTIVITY, "activities=[send_confirmation]"),
        "NotYet: ConfirmationWorkflow is not registered on your worker: add "
        "workflows=[ConfirmationWorkflow] to Worker(...)",
    ),
    "a signature without the order": (
        _worker_with(
            'async def send_confirmation() -> str:\n    return "sent"',
            "workflows=[ConfirmationWorkflow], activities=[send_confirmation]",
        ),
        "NotYet: send_confirmation() -> str cannot take the one argument the workflow passes: "
        "write it as `async def send_confirmation(order: Order) -> str`",
    ),
    "time.sleep in an async def activity": (
        _worker_with(
            "async def send_confirmation(order: Order) -> str:\n"
            "    import time\n    time.sleep(1.5)\n"
            '    return f"Confirmation for {order.order_id}"',
            "workflows=[ConfirmationWorkflow], activities=[send_confirmation]",
        ),
        "NotYet: send_confirmation blocked the worker for 1.",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES_01)
def test_01_mistake_prints_one_line_to_fix(kernel_01: Kernel, mistake: str) -> None:
    answer, line = MISTAKES_01[mistake]
    kernel_01.run(answer)
    shown = kernel_01.run(CHECK_01, fails=True)
    _one_line(shown, line)
    print(f"{mistake}: {shown.strip().splitlines()[-1]}")


GIFT_MODULE = "gift_note_check"

CHECK_02 = f"""
answer = await try_gift_note(client, "{GIFT_MODULE}")
self_check(answer, "Gift wrap, please",
           hint="add_note keeps its argument in self.note; get_note returns self.note")
"""


@pytest.fixture
def gift_module(kernel: Kernel) -> Iterator[str]:
    yield GIFT_MODULE
    (kernel_dir() / f"{GIFT_MODULE}.py").unlink(missing_ok=True)


def _gift_note(source: str) -> str:
    return source.replace("%%writefile gift_note.py", f"%%writefile {GIFT_MODULE}.py")


SOLUTION_02 = (SOLUTIONS / "02_human_approval_1.py").read_text()


def test_02_solution_runs_the_learners_handlers(kernel: Kernel, gift_module: str) -> None:
    kernel.run(_gift_note(SOLUTION_02))
    shown = kernel.run(CHECK_02)
    assert "get_note answered 'Gift wrap, please'" in shown and "Well done" in shown, shown


def test_02_untouched_exercise_only_says_your_turn(kernel: Kernel, gift_module: str) -> None:
    untouched = SOLUTION_02.split("    @workflow.signal")[0] + "    ...  # your handlers\n"
    kernel.run(_gift_note(untouched))
    assert "Your turn" in kernel.run(CHECK_02)


MISTAKES_02 = {
    "a wrong answer": (
        ("return self.note", "return self.note.upper()"),
        "NotYet: Not quite yet (your answer: 'GIFT WRAP, PLEASE'). Hint: add_note keeps",
    ),
    "the signal not marked @workflow.signal": (
        ("    @workflow.signal\n", ""),
        "NotYet: GiftNoteWorkflow has no signal named 'add_note': write `def add_note(self, "
        "note: str) -> None` in the class, marked @workflow.signal",
    ),
    "a signal handler without the note": (
        (
            "def add_note(self, note: str) -> None:\n        self.note = note",
            'def add_note(self) -> None:\n        self.note = "?"',
        ),
        "NotYet: add_note(self) -> None cannot take the note the signal carries: write it as "
        "`def add_note(self, note: str) -> None`",
    ),
    "datetime.now() in workflow code": (
        (
            "self.note = note",
            "from datetime import datetime\n        self.note = f'{note} ({datetime.now()})'",
        ),
        "NotYet: The workflow code failed on the worker: Cannot access datetime.datetime.now."
        "__call__ from inside a workflow (the sandbox refuses it: a replay would get a "
        "different answer; use workflow.now()",
    ),
    "the run method's @workflow.run removed": (
        ("    @workflow.run\n", ""),
        f"ValueError: {GIFT_MODULE}.py, line 7: Invalid workflow class: Missing @workflow.run "
        "method: fix it in the cell that writes that file, run that cell, then this one again",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES_02)
def test_02_mistake_prints_one_line_to_fix(kernel: Kernel, gift_module: str, mistake: str) -> None:
    (old, new), line = MISTAKES_02[mistake]
    assert old in SOLUTION_02
    kernel.run(_gift_note(SOLUTION_02.replace(old, new)))
    shown = kernel.run(CHECK_02, fails=True)
    _one_line(shown, line)
    print(f"{mistake}: {shown.strip().splitlines()[-1]}")


CHECK_03 = """
answer = await try_retry_policy(client, PAYMENT_RETRY)
self_check(answer, {"declined card": 1, "bank outage": 3},
           hint="maximum_attempts caps the attempts; non_retryable_error_types takes a list "
                "of error type names, here the ApplicationError type 'CardDeclined'")
"""

SETUP_03 = "from datetime import timedelta\nfrom temporalio.common import RetryPolicy\n"


def test_03_solution_stops_each_payment_where_asked(kernel: Kernel) -> None:
    kernel.run(SETUP_03 + (SOLUTIONS / "03_failures_and_compensation_1.py").read_text())
    assert "Well done" in kernel.run(CHECK_03)


MISTAKES_03 = {
    "no non-retryable error type": (
        "RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3)",
        "NotYet: Not quite yet (your answer: {'declined card': 3, 'bank outage': 3}). Hint: ",
    ),
    "no attempt limit": (
        "RetryPolicy(initial_interval=timedelta(milliseconds=100), "
        "non_retryable_error_types=['CardDeclined'])",
        "NotYet: Not quite yet (your answer: {'declined card': 1, 'bank outage': 6}). Hint: ",
    ),
    "not a RetryPolicy": (
        "{'maximum_attempts': 3}",
        "NotYet: PAYMENT_RETRY is a dict: make it a RetryPolicy(...)",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES_03)
def test_03_mistake_prints_one_line_to_fix(kernel: Kernel, mistake: str) -> None:
    policy, line = MISTAKES_03[mistake]
    kernel.run(SETUP_03 + f"PAYMENT_RETRY = {policy}")
    shown = kernel.run(CHECK_03, fails=True)
    _one_line(shown, line)
    print(f"{mistake}: {shown.strip().splitlines()[-1]}")


IN_CELL_WORKFLOW = """
from temporalio import workflow

@workflow.defn
class Thanks:
    @workflow.run
    async def run(self) -> str:
        return "thanks"

thanks_worker = Worker(client, task_queue=CONFIRMATION_QUEUE, workflows=[Thanks])
"""

WORKER_MISTAKES_01 = {
    "an activity without @activity.defn": (
        MISTAKES["an activity without @activity.defn"].source,
        MISTAKES["an activity without @activity.defn"].line,
    ),
    "the kernel's own task queue": (
        f"@activity.defn\n{RIGHT_ACTIVITY}\n"
        "confirmation_worker = Worker(client, task_queue=config.task_queue(),\n"
        "                             workflows=[ConfirmationWorkflow], "
        "activities=[send_confirmation])\n",
        "RuntimeError: task queue {queue!r} is taken: another Worker built on this client has "
        "it (a Worker holds its queue until it has run and shut down; one never run holds it "
        "until the kernel restarts). Give this Worker a task queue of its own",
    ),
    # Python's own TypeErrors, recognised by the cell's source as the kernel keeps it.
    "the constructor awaited": (
        MISTAKES["the constructor awaited"].source,
        MISTAKES["the constructor awaited"].line,
    ),
    "a plain with": (MISTAKES["a plain with"].source, MISTAKES["a plain with"].line),
    "a workflow class written in a cell": (
        IN_CELL_WORKFLOW,
        "RuntimeError: Thanks is written in a notebook cell, but the sandbox that runs workflow "
        "code loads it from its file: write it to a .py file with %%writefile, import it from "
        "there, then register it",
    ),
}


@pytest.mark.parametrize("mistake", WORKER_MISTAKES_01)
def test_01_worker_cell_mistake_prints_only_one_line_to_fix(
    kernel_01: Kernel, mistake: str
) -> None:
    source, line = WORKER_MISTAKES_01[mistake]
    queue = kernel_01.run("QUEUE = CONFIRMATION_QUEUE\nprint(config.task_queue())").strip()
    shown = kernel_01.run(source, fails=True)
    assert shown.strip() == line.format(queue=queue)
    print(f"{mistake}: {shown.strip()}")
