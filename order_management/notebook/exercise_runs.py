"""The checks of the exercises whose answer is Temporal code (notebooks 04 and 05).

The learner's code runs for real: a heartbeating activity on a worker of the dev server that
is stopped half-way, a mock activity on Temporal's time-skipping test server, an activity
unit test against the real activity and against a broken one. Every wait is bounded, and a
likely mistake (no `@activity.defn`, the wrong activity name or parameters, a blocking call
in an `async def`, an error Temporal keeps retrying) comes back as one line to act on.

Each `check_*` returns a `Verdict`; the check cell hands it to `self_check`, which prints
"Well done" or raises `NotYet` with the verdict's hint. The untouched placeholder (`...`) is
not run at all, so Run All stays green for a learner who skips the exercise.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from order_management import sdk_internals
from order_management.activities import (
    process_payment,
    refund_payment,
    release_inventory,
    reserve_inventory,
)
from order_management.beyond.warehouse import (
    PICKING_HEARTBEAT_TIMEOUT,
    SECONDS_PER_UNIT,
    PickingReport,
    PickingWorkflow,
    PickList,
    pick_items,
    picking_timeout,
)
from order_management.notebook.cell_errors import brief
from order_management.notebook.outages import PendingActivity, pending_activities
from order_management.sdk_internals import activity_name
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow

EXERCISE_UNITS = 10
"""The pick list of 04's exercise: long enough that the worker can be stopped half-way."""
STOP_AT_UNITS = 3
"""04's check stops the first worker once the server has a heartbeat of this many units."""
BLOCKED_SECONDS = 1.0
"""An event loop that stood still this long ran a blocking call in an `async def`."""
POLL_SECONDS = 0.1
SDK_FAILURE_LOGGERS = ("temporalio.activity", "temporalio.worker._activity", "temporalio.core")
"""Where the SDK logs a failed attempt (with its traceback) and the core's warnings about it."""
REFUSED_DELIVERY_COMPENSATIONS = ["refund_payment", "release_inventory"]


@dataclass(frozen=True)
class Verdict:
    """What a check found: right, or the one line that says what to fix."""

    ok: bool
    hint: str = ""


_PLACEHOLDER = Verdict(False, "replace the ... in the exercise cell")


class _Wrong(Exception):
    """The learner's code did something that the check can name in one line."""


def activity_problem(answer: Any, name: str) -> str | None:
    """Why `answer` cannot be registered as the activity `name`, or None."""
    if not callable(answer):
        return f"answer must be your activity function itself, not a {type(answer).__name__}"
    registered = activity_name(answer)
    label = getattr(answer, "__name__", repr(answer))
    if registered is None:
        return f'{label} is no activity yet: put @activity.defn(name="{name}") above it'
    if registered != name:
        return (
            f"your activity is registered as {registered!r}, but the workflow calls "
            f'{name!r}: use @activity.defn(name="{name}")'
        )
    if not inspect.iscoroutinefunction(answer):
        return f"make {label} an `async def`: a plain `def` activity needs a thread pool"
    return None


def _failures_told_once(
    check: Callable[..., Awaitable[Verdict]],
) -> Callable[..., Awaitable[Verdict]]:
    """The learner's failing attempts are the check's to tell, in the verdict's one line: the
    SDK's own logs of them (a traceback each) stay out of the cell while the check runs. So
    does the SDK's warning when a cancel arrives for an attempt that has already ended (a
    blocking `pick_items` ends its attempt late), which shows the task token's bytes."""

    @functools.wraps(check)
    async def run(*args: Any, **kwargs: Any) -> Verdict:
        loggers = [logging.getLogger(name) for name in SDK_FAILURE_LOGGERS]
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", sdk_internals.CANCEL_OF_ENDED_ATTEMPT, UserWarning
                )
                return await check(*args, **kwargs)
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)

    return run


@_failures_told_once
async def check_resumable_picker(client: Client, answer: Any) -> Verdict:
    """04: run the learner's `pick_items` for a pick list on a worker of its own, stop that
    worker once the server has a heartbeat of `STOP_AT_UNITS` units, start another, and
    expect attempt 2 to go on from that heartbeat."""
    if answer is Ellipsis:
        return _PLACEHOLDER
    if problem := activity_problem(answer, "pick_items"):
        return Verdict(False, problem)
    pick_list = PickList(f"EXERCISE-{uuid.uuid4().hex[:6].upper()}", units=EXERCISE_UNITS)
    task_queue = f"exercise-{pick_list.order_id.lower()}"
    handle = await client.start_workflow(
        PickingWorkflow.run, pick_list, id=f"picking-{pick_list.order_id}", task_queue=task_queue
    )

    def worker() -> Worker:
        return Worker(
            client, task_queue=task_queue, workflows=[PickingWorkflow], activities=[answer]
        )

    async with _loop_watch() as stood_still:
        try:
            async with worker():
                heard = await _heartbeat_of(handle, STOP_AT_UNITS)
            # That worker has stopped: its attempt was cancelled, and attempt 2 waits for us.
            async with worker():
                report = await _result(handle, picking_timeout(EXERCISE_UNITS).total_seconds())
        except _Wrong as wrong:
            return Verdict(False, _blocked(stood_still()) or str(wrong))
        finally:
            await _end(handle)
    if blocked := _blocked(stood_still()):
        return Verdict(False, blocked)
    if not isinstance(report, PickingReport):
        return Verdict(False, f"return a PickingReport, not {report!r}")
    if report.resumed_from < heard:
        return Verdict(
            False,
            f"attempt {report.attempt} began after unit {report.resumed_from}, but the server "
            f"had a heartbeat of {heard} units: start from activity.info().heartbeat_details[0] "
            "when there is one",
        )
    return Verdict(True)


@_failures_told_once
async def check_refused_delivery(answer: Any, test_server: str, timeout: float) -> Verdict:
    """05: run a $250 order on the time-skipping test server with the learner's mock in place
    of `initiate_delivery`, and expect the two steps before it undone, most recent first."""
    if answer is Ellipsis:
        return _PLACEHOLDER
    if problem := activity_problem(answer, "initiate_delivery"):
        return Verdict(False, problem)
    order = make_order(250.0, f"EXERCISE-{uuid.uuid4().hex[:6].upper()}")
    activities = [reserve_inventory, process_payment, answer, refund_payment, release_inventory]
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server
    ) as env:
        async with Worker(
            env.client, task_queue="exercise", workflows=[OrderWorkflow], activities=activities
        ):
            handle = await env.client.start_workflow(
                OrderWorkflow.run,
                order,
                id=f"order-workflow-{order.order_id}",
                task_queue="exercise",
            )
            try:
                result = await _result(handle, timeout)
            except _Wrong as wrong:
                return Verdict(False, str(wrong))
    if result.compensations != REFUSED_DELIVERY_COMPENSATIONS:
        return Verdict(
            False,
            f"the order ended {result.status} with compensations {result.compensations}: the "
            "mock must raise ApplicationError(..., non_retryable=True)",
        )
    return Verdict(True)


async def check_activity_test(answer: Any, timeout: float) -> Verdict:
    """05: the learner's test of `pick_items` must pass against the real activity and fail
    against one that ignores its last heartbeat (a test that cannot fail checks nothing)."""
    if answer is Ellipsis:
        return _PLACEHOLDER
    if not inspect.iscoroutinefunction(answer):
        return Verdict(False, "answer must be your test itself: an `async def test_...():`")
    if failed := await _test_fails(answer, timeout):
        return Verdict(False, f"your test fails on the real pick_items: {failed}")
    with _swapped(answer.__globals__, pick_items, pick_items_starting_over) as swapped:
        if not swapped:
            return Verdict(False, "your test must run pick_items, the one this notebook imports")
        if not await _test_fails(answer, timeout):
            return Verdict(
                False,
                "your test also passes for a pick_items that ignores its last heartbeat: give "
                "env.info heartbeat_details and assert where the report says it resumed",
            )
    return Verdict(True)


@activity.defn(name="pick_items")
async def pick_items_starting_over(pick_list: PickList) -> PickingReport:
    """`pick_items` with a bug for 05's check: it ignores its last heartbeat, picks all again."""
    for unit in range(1, pick_list.units + 1):
        activity.heartbeat(unit)
    return PickingReport(pick_list.order_id, pick_list.units, activity.info().attempt, 0)


async def _test_fails(test: Callable[[], Awaitable[Any]], timeout: float) -> str | None:
    """How the test failed, in one line, or None if it passed."""
    try:
        await asyncio.wait_for(test(), timeout)
    except AssertionError as error:
        return f"AssertionError: {error}" if str(error) else "an assert is false"
    except Exception as error:  # the learner's test: anything it raises is its failure
        return brief(error)
    return None


@contextmanager
def _swapped(namespace: MutableMapping[str, Any], old: Any, new: Any) -> Iterator[bool]:
    """Every name bound to `old` in `namespace` bound to `new` for a while; whether any was."""
    names = [name for name, value in namespace.items() if value is old]
    for name in names:
        namespace[name] = new
    try:
        yield bool(names)
    finally:
        for name in names:
            namespace[name] = old


async def _heartbeat_of(handle: WorkflowHandle, units: int) -> int:
    """Wait until the server has a heartbeat of at least `units` units; the units it has."""
    timeout = PICKING_HEARTBEAT_TIMEOUT.total_seconds() + units * SECONDS_PER_UNIT + 10
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for pending in await pending_activities(handle):
            _raise_if_retried(pending)
            if pending.progress >= units:
                return pending.progress
        await asyncio.sleep(POLL_SECONDS)
    raise _Wrong(
        f"the server heard no heartbeat of {units} units within {timeout:g} s: call "
        "activity.heartbeat(unit) after each unit"
    )


async def _result(handle: WorkflowHandle, timeout: float) -> Any:
    """The workflow's result; a failing activity that Temporal retries ends the wait at once."""
    result = asyncio.ensure_future(handle.result())
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while asyncio.get_running_loop().time() < deadline:
            done, _ = await asyncio.wait({result}, timeout=POLL_SECONDS * 5)
            if done:
                return result.result()
            for pending in await pending_activities(handle):
                _raise_if_retried(pending)
        raise _Wrong(f"the workflow did not finish within {timeout:g} s")
    finally:
        result.cancel()


def _raise_if_retried(pending: PendingActivity) -> None:
    """An attempt of the learner's activity failed, and Temporal is retrying it: say why."""
    failure = pending.last_failure or ""
    if pending.attempt < 2 or not failure or "shutting down" in failure:
        return
    name = pending.activity
    if "Heartbeat timeout" in failure:
        raise _Wrong(
            f"the server heard no heartbeat for {PICKING_HEARTBEAT_TIMEOUT.total_seconds():g} s "
            f"and retried {name}: call activity.heartbeat(unit) after each unit"
        )
    if "positional argument" in failure or "argument" in failure and "missing" in failure:
        raise _Wrong(f"{name} is called with one argument, the workflow's input: {failure}")
    raise _Wrong(
        f"{name} failed and Temporal retries it (attempt {pending.attempt}): {failure}. An error "
        "no retry can change needs ApplicationError(..., non_retryable=True)"
    )


@asynccontextmanager
async def _loop_watch() -> AsyncIterator[Callable[[], float]]:
    """Measure the longest time the event loop stood still in the block (a blocking call in
    an `async def` stops everything in it: the worker, its heartbeats, the other cells)."""
    longest = 0.0

    async def tick() -> None:
        nonlocal longest
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(POLL_SECONDS)
            longest = max(longest, loop.time() - before - POLL_SECONDS)

    ticker = asyncio.ensure_future(tick())
    try:
        yield lambda: longest
    finally:
        ticker.cancel()


def _blocked(seconds: float) -> str | None:
    if seconds < BLOCKED_SECONDS:
        return None
    return (
        f"the event loop stood still for {seconds:.1f} s: a blocking call in an async def "
        "(time.sleep?) stops the worker and its heartbeats; use await asyncio.sleep"
    )


async def _end(handle: WorkflowHandle) -> None:
    """Terminate the check's workflow if it still runs, so nothing is left retrying."""
    try:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate(reason="the exercise check is over")
    except RPCError:  # gone already
        pass
