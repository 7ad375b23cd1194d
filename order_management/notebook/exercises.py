""" "Your turn" exercises: a check cell under each exercise, with a hint when not yet right.

`self_check` compares an answer with what is expected. For the exercises whose answer is
Temporal code, the answer is first *run* on a real worker by one of the `try_*` helpers:

- `try_confirmation(worker, order)` (01): the learner's `Worker`, with their activity
  `send_confirmation`, runs `ConfirmationWorkflow`;
- `try_gift_note(client, module)` (02): the learner's workflow module, written with
  `%%writefile`, runs on a worker with its signal and query;
- `try_retry_policy(client, policy)` (03): the learner's `RetryPolicy` runs two payments.

Each helper is a guard: its waits are bounded, and a likely mistake (a workflow or activity
not registered, a wrong signature, blocking code in an `async def` activity, a call the
sandbox refuses in workflow code) ends in `NotYet` with one line that says what to fix, read
from the worker's configuration or from what the server recorded, never a hang or a trace.
An untouched exercise (`...`) passes through as `...`, and `self_check` then only says
"Your turn", so Run All stays green.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from order_management.errors import WorkshopError
from order_management.exercise_workflows import (
    CONFIRMATION_ACTIVITY,
    ConfirmationWorkflow,
    PaymentTrial,
    PaymentTrialWorkflow,
    RetryChoice,
    charge_card_trial,
)
from order_management.local import config
from order_management.notebook.display import web_ui_link
from order_management.progress import record as progress
from order_management.sdk_internals import (
    activity_name,
    has_run,
    is_sandbox_refusal,
    workflow_handlers,
)
from order_management.shared import Order
from order_management.worker import start_polling

EXERCISE_WAIT_SECONDS = 20.0
"""How long a check waits for the learner's workflow: far more than a right answer needs."""
BLOCKED_LOOP_SECONDS = 1.0
"""A stall of the kernel's event loop this long while the learner's activity ran means it
blocked (an `async def` activity must `await`, never sleep or wait on I/O in place)."""
GIFT_NOTE = "Gift wrap, please"
DECLINED, OUTAGE = "declined card", "bank outage"
TRIAL_FAILURES = 5
"""Each trial payment fails this many times before the bank answers: more than a limit of 3."""


class NotYet(WorkshopError, AssertionError):
    """An exercise's answer is not right yet; the message holds a hint."""


def self_check(answer: Any, expected: Any, *, hint: str, task: str | None = None) -> None:
    """Check an exercise's `answer` against `expected` (a value, or a function returning
    True for a right answer).

    An untouched placeholder (`...`) only prints the task, so Run All stays green for a
    learner who skips the exercise; a wrong answer raises `NotYet` with the hint.
    """
    if answer is Ellipsis:
        print(
            f"Your turn: {task or 'replace the ... in the exercise cell above'}. "
            "Then run this cell again to check your answer."
        )
        return
    right = expected(answer) if callable(expected) else answer == expected
    if not right:
        raise NotYet(f"Not quite yet (your answer: {answer!r}). Hint: {hint}")
    print("Well done: that is right!")
    progress.exercise_passed(task or hint)


# 01: the learner's activity on the learner's worker


def confirmation_queue() -> str:
    """A task queue for 01's exercise: its own, so the kernel's order worker never takes a
    `ConfirmationWorkflow` task; and a new one at each call, because the SDK refuses a second
    `Worker` for the same queue on one client until the first has run and shut down: one
    never run keeps its queue for the kernel's life, even once it is garbage (the exercise
    cell may run many times before its check)."""
    return f"{_confirmation_queue_prefix()}{uuid.uuid4().hex[:6]}"


def _confirmation_queue_prefix() -> str:
    return f"{config.task_queue()}-confirmation-"


async def try_confirmation(worker: Any, order: Order) -> Any:
    """Run `ConfirmationWorkflow` for `order` on the learner's `worker`; its result, or
    `...` for an untouched exercise. Prints the activity's events from the history."""
    if worker is Ellipsis:
        return Ellipsis
    _check_worker(worker, _confirmation_queue_prefix(), ConfirmationWorkflow)
    activity_fn = _registered_activity(worker, CONFIRMATION_ACTIVITY)
    _check_takes_one_argument(activity_fn, "async def send_confirmation(order: Order) -> str")
    client: Client = worker.client
    async with _running(worker), _loop_watch() as stalls:
        handle = await client.start_workflow(
            ConfirmationWorkflow.run,
            order,
            id=f"confirmation-{order.order_id}-{uuid.uuid4().hex[:4]}",
            task_queue=worker.task_queue,
        )
        result = await _result_or_reason(handle, CONFIRMATION_ACTIVITY)
    if stalls.longest >= BLOCKED_LOOP_SECONDS:
        raise NotYet(
            f"send_confirmation blocked the worker for {stalls.longest:.1f} s: an `async def` "
            "activity must not call blocking code such as time.sleep(); use `await "
            "asyncio.sleep(...)`, or write it as a plain `def` (then the Worker needs "
            "activity_executor=ThreadPoolExecutor())"
        )
    await _print_activity_events(handle)
    return result


def _check_worker(worker: Any, queue_prefix: str, workflow_class: type) -> None:
    if not isinstance(worker, Worker):
        raise NotYet(
            f"Your answer is a {type(worker).__name__}, not a Worker: build one with "
            f"Worker(client, task_queue=..., workflows=[{workflow_class.__name__}], "
            "activities=[...])"
        )
    if not worker.task_queue.startswith(queue_prefix):
        raise NotYet(
            f"Your worker polls {worker.task_queue!r}: give it task_queue=CONFIRMATION_QUEUE, "
            f"the queue made for {workflow_class.__name__}"
        )
    if workflow_class not in worker.config().get("workflows", []):
        raise NotYet(
            f"{workflow_class.__name__} is not registered on your worker: add "
            f"workflows=[{workflow_class.__name__}] to Worker(...)"
        )
    if has_run(worker):  # a Worker runs once
        raise NotYet("That Worker has run already (a Worker runs once): run the cell above again")


def _registered_activity(worker: Worker, name: str) -> Callable[..., Any]:
    for fn in worker.config().get("activities", []):
        if activity_name(fn) == name:
            return fn
    raise NotYet(
        f"No activity named {name!r} is registered on your worker: mark the function "
        f"@activity.defn and pass activities=[{name}] to Worker(...)"
    )


def _check_takes_one_argument(fn: Callable[..., Any], right: str) -> None:
    try:
        inspect.signature(fn).bind("one argument")
    except TypeError:
        raise NotYet(
            f"{fn.__name__}{inspect.signature(fn)} cannot take the one argument the workflow "
            f"passes: write it as `{right}`"
        ) from None


async def _print_activity_events(handle: WorkflowHandle) -> None:
    events = []
    async for event in handle.fetch_history_events():
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        if name.startswith("ACTIVITY_TASK"):
            events.append(f"{event.event_id} {name}")
    print(f"In the history of {handle.id}: " + ", ".join(events))
    display_link(handle)


# 02: the learner's own workflow module, its signal and its query


def gift_note_queue() -> str:
    return f"{config.task_queue()}-gift-note"


async def try_gift_note(client: Client, module_name: str = "gift_note") -> Any:
    """Run the learner's `GiftNoteWorkflow` from `module_name` (a `%%writefile` module):
    send it the signal `add_note`, then ask the query `get_note`. The note the query
    returned, or `...` while the handlers are not written yet."""
    workflow_class = _reloaded_class(module_name, "GiftNoteWorkflow")
    handlers = workflow_handlers(workflow_class)
    if handlers is None:
        raise NotYet("GiftNoteWorkflow is no workflow: keep @workflow.defn above its class")
    signals, queries = handlers
    if _still_placeholder(module_name) and not signals and not queries:
        return Ellipsis
    _check_handler(signals, "add_note", "signal", "def add_note(self, note: str) -> None")
    _check_handler(queries, "get_note", "query", "def get_note(self) -> str")
    try:
        inspect.signature(workflow_class.add_note).bind("self", "note")
    except TypeError:
        raise NotYet(
            f"add_note{inspect.signature(workflow_class.add_note)} cannot take the note the "
            "signal carries: write it as `def add_note(self, note: str) -> None`"
        ) from None
    try:
        worker = Worker(client, task_queue=gift_note_queue(), workflows=[workflow_class])
    except Exception as err:  # the sandbox refused the module: the SDK says why
        raise NotYet(f"The worker refused GiftNoteWorkflow: {_first_line(err)}") from None
    async with _running(worker):
        handle = await client.start_workflow(
            workflow_class.run,
            id=f"gift-note-{uuid.uuid4().hex[:6]}",
            task_queue=worker.task_queue,
        )
        await handle.signal("add_note", GIFT_NOTE)
        result = await _result_or_reason(handle, "add_note")
        note = await asyncio.wait_for(handle.query("get_note"), EXERCISE_WAIT_SECONDS)
    print(f"{handle.id} ended with {result!r}; get_note answered {note!r}")
    display_link(handle)
    return note


def _still_placeholder(module_name: str) -> bool:
    """True while the module still has the exercise's `...` line in place of the handlers."""
    source = Path(f"{module_name.replace('.', '/')}.py")
    lines = source.read_text().splitlines() if source.exists() else []
    return any(line.split("#")[0].strip() == "..." for line in lines)


def _reloaded_class(module_name: str, class_name: str) -> Any:
    """The class from the module's file as it is now (the cell above may have rewritten it)."""
    try:
        module = (
            importlib.reload(sys.modules[module_name])
            if module_name in sys.modules
            else (importlib.import_module(module_name))
        )
    except SyntaxError as err:
        raise NotYet(
            f"{module_name}.py line {err.lineno}: {err.msg}: fix it and run the cell again"
        ) from None
    except ModuleNotFoundError:
        raise NotYet(f"No {module_name}.py here: run the %%writefile cell above first") from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type):
        raise NotYet(f"{module_name}.py has no class {class_name}: keep its name")
    return found


def _check_handler(handlers: dict[str | None, Any], name: str, kind: str, right: str) -> None:
    if name not in handlers:
        raise NotYet(
            f"GiftNoteWorkflow has no {kind} named {name!r}: write `{right}` in the class, "
            f"marked @workflow.{kind}"
        )


# 03: the learner's retry policy


def payment_trial_queue() -> str:
    return f"{config.task_queue()}-payment-trial"


async def try_retry_policy(client: Client, policy: Any) -> Any:
    """Charge two trial payments with `policy`, a card the bank declines and a bank outage,
    both failing `TRIAL_FAILURES` times; how many attempts each took (from the server), or
    `...` for an untouched exercise."""
    if policy is Ellipsis:
        return Ellipsis
    if not isinstance(policy, RetryPolicy):
        raise NotYet(f"PAYMENT_RETRY is a {type(policy).__name__}: make it a RetryPolicy(...)")
    choice = RetryChoice.of(policy)
    trials = {
        DECLINED: PaymentTrial("CardDeclined", TRIAL_FAILURES, choice),
        OUTAGE: PaymentTrial("BankUnavailable", TRIAL_FAILURES, choice),
    }
    worker = Worker(
        client,
        task_queue=payment_trial_queue(),
        workflows=[PaymentTrialWorkflow],
        activities=[charge_card_trial],
    )
    async with _running(worker):
        handles = {
            case: await client.start_workflow(
                PaymentTrialWorkflow.run,
                trial,
                id=f"payment-trial-{case.replace(' ', '-')}-{uuid.uuid4().hex[:6]}",
                task_queue=worker.task_queue,
            )
            for case, trial in trials.items()
        }
        attempts = await asyncio.gather(*(_attempts(handle) for handle in handles.values()))
    for handle in handles.values():
        display_link(handle)
    return dict(zip(handles, attempts, strict=True))


async def _attempts(handle: WorkflowHandle) -> int | str:
    """How many attempts the trial's payment took: from its history once the workflow ends,
    from its pending activity if it still retries after `EXERCISE_WAIT_SECONDS`."""
    try:
        await asyncio.wait_for(handle.result(), EXERCISE_WAIT_SECONDS)
    except WorkflowFailureError:
        pass  # the payment gave up: the history says after how many attempts
    except asyncio.TimeoutError:
        pending = (await handle.describe()).raw_description.pending_activities
        await handle.terminate(reason="the exercise's check stopped waiting")
        attempt = pending[0].attempt if pending else "?"
        return f"still retrying at attempt {attempt} after {EXERCISE_WAIT_SECONDS:g} s"
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_started_event_attributes"):
            return event.activity_task_started_event_attributes.attempt
    return 0


# Shared guards: the worker in the background, bounded waits, the server's reason


@asynccontextmanager
async def _running(worker: Worker) -> AsyncIterator[Worker]:
    """`worker` polling for the block's duration, then shut down."""
    try:
        task = await start_polling(worker)
    except (RuntimeError, TimeoutError) as err:
        raise NotYet(f"Your worker could not start: {_first_line(err)}") from None
    try:
        yield worker
    finally:
        await worker.shutdown()
        await asyncio.gather(task, return_exceptions=True)


async def _result_or_reason(handle: WorkflowHandle, step: str) -> Any:
    """The workflow's result; otherwise `NotYet` with the reason the server recorded."""
    waiting = asyncio.ensure_future(handle.result())
    deadline = asyncio.get_running_loop().time() + EXERCISE_WAIT_SECONDS
    try:
        while asyncio.get_running_loop().time() < deadline:
            done, _ = await asyncio.wait({waiting}, timeout=0.5)
            if done:
                return waiting.result()
            failed_task = await _failed_workflow_task(handle)
            if failed_task:
                await handle.terminate(reason="the exercise's check found a failed workflow task")
                raise NotYet(f"The workflow code failed on the worker: {failed_task}")
    except WorkflowFailureError as err:
        raise NotYet(_activity_failure_line(step, err)) from None
    finally:
        waiting.cancel()
    await handle.terminate(reason="the exercise's check stopped waiting")
    raise NotYet(
        f"{handle.id} did not finish within {EXERCISE_WAIT_SECONDS:g} s: is {step} "
        "registered, and does it return?"
    )


async def _failed_workflow_task(handle: WorkflowHandle) -> str | None:
    """The failure of the workflow's first failed workflow task, with what to do about it."""
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            return _sandbox_hint(
                _first_line(event.workflow_task_failed_event_attributes.failure.message)
            )
    return None


def _sandbox_hint(message: str) -> str:
    """For a call the sandbox refused, the SDK's first sentence and what to use instead (its
    further advice, to pass the module through, is for imports, not for such calls)."""
    if not is_sandbox_refusal(message):
        return message
    return (
        f"{message.split('. ')[0]} (the sandbox refuses it: a replay would get a different "
        "answer; use workflow.now(), workflow.random() or workflow.uuid4(), or move it to an "
        "activity)"
    )


def _activity_failure_line(step: str, err: WorkflowFailureError) -> str:
    cause: BaseException | None = err.cause
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    message = _first_line(cause or err)
    if "argument" in message or "decod" in message.lower():
        return f"{step} failed: {message}: it takes one argument, the order (order: Order)"
    return f"{step} failed on the worker: {message}"


def display_link(handle: WorkflowHandle) -> None:
    """The workflow's Web UI link, as a link under IPython and as text elsewhere."""
    try:
        from IPython.display import display
    except ImportError:
        print(repr(web_ui_link(handle)))
    else:
        display(web_ui_link(handle))


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _Stalls:
    longest = 0.0


@asynccontextmanager
async def _loop_watch(period: float = 0.05) -> AsyncIterator[_Stalls]:
    """The longest the event loop went without running this watcher during the block: a
    blocking call in the kernel (as in an `async def` activity) shows here as a stall."""
    stalls = _Stalls()
    loop = asyncio.get_running_loop()

    async def watch() -> None:
        while True:
            before = loop.time()
            await asyncio.sleep(period)
            stalls.longest = max(stalls.longest, loop.time() - before - period)

    watcher = asyncio.create_task(watch())
    try:
        yield stalls
    finally:
        watcher.cancel()
