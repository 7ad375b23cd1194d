"""The checks of the exercises whose answer is Temporal code (04's heartbeat, 05's tests): each
passes with its solution file, run as the notebook runs it, and a likely mistake gets its one
line. The learner's code runs on the real dev server or the time-skipping test server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from order_management.beyond.warehouse import SECONDS_PER_UNIT, PickingReport, PickList, pick_items
from order_management.local import devserver
from order_management.notebook.display import new_order_id
from order_management.notebook.exercise_runs import (
    Verdict,
    check_activity_test,
    check_refused_delivery,
    check_resumable_picker,
)
from order_management.shared import Order

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
WAIT_SECONDS = 30.0


def solution(name: str, namespace: dict[str, Any]) -> Any:
    """The `answer` a solution file sets, run with the notebook's imports in `namespace`."""
    exec((SOLUTIONS / f"{name}.py").read_text(), namespace)
    return namespace["answer"]


def picker_namespace() -> dict[str, Any]:
    return {
        "asyncio": asyncio,
        "activity": activity,
        "PickList": PickList,
        "PickingReport": PickingReport,
        "SECONDS_PER_UNIT": SECONDS_PER_UNIT,
    }


async def test_the_heartbeat_solution_resumes_from_its_last_heartbeat(
    dev_client: Client, ledger: Any
) -> None:
    answer = solution("04_durability_1", picker_namespace())
    assert await check_resumable_picker(dev_client, answer) == Verdict(True)


async def test_the_placeholder_is_not_run(dev_client: Client) -> None:
    assert not (await check_resumable_picker(dev_client, ...)).ok


@activity.defn(name="pick_items")
async def starts_over(pick_list: PickList) -> PickingReport:
    for unit in range(1, pick_list.units + 1):
        await asyncio.sleep(SECONDS_PER_UNIT)
        activity.heartbeat(unit)
    return PickingReport(pick_list.order_id, pick_list.units, activity.info().attempt, 0)


@activity.defn(name="pick_items")
async def never_heartbeats(pick_list: PickList) -> PickingReport:
    await asyncio.sleep(pick_list.units * SECONDS_PER_UNIT)
    return PickingReport(pick_list.order_id, pick_list.units, activity.info().attempt, 0)


@activity.defn(name="pick_items")
async def blocks_the_loop(pick_list: PickList) -> PickingReport:
    start = activity.info().heartbeat_details[0] if activity.info().heartbeat_details else 0
    for unit in range(start + 1, pick_list.units + 1):
        time.sleep(SECONDS_PER_UNIT)  # the mistake: a blocking call in an async def
        activity.heartbeat(unit)
    return PickingReport(pick_list.order_id, pick_list.units, activity.info().attempt, start)


@activity.defn(name="pick_items")
async def takes_no_pick_list() -> PickingReport:
    return PickingReport("none", 0, 1, 0)


async def not_decorated(pick_list: PickList) -> PickingReport:
    return PickingReport(pick_list.order_id, pick_list.units, 1, 0)


@activity.defn
async def own_name(pick_list: PickList) -> PickingReport:
    return PickingReport(pick_list.order_id, pick_list.units, 1, 0)


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (starts_over, "attempt 2 began after unit 0, but the server had a heartbeat of"),
        (never_heartbeats, "the server heard no heartbeat for 3 s and retried pick_items"),
        (blocks_the_loop, "a blocking call in an async def (time.sleep?)"),
        (takes_no_pick_list, "pick_items is called with one argument, the workflow's input"),
        (not_decorated, 'not_decorated is no activity yet: put @activity.defn(name="pick_items")'),
        (own_name, "your activity is registered as 'own_name', but the workflow calls"),
    ],
    ids=lambda value: getattr(value, "__name__", "line"),
)
async def test_a_picker_mistake_gets_its_line(
    dev_client: Client, ledger: Any, answer: Any, line: str
) -> None:
    verdict = await check_resumable_picker(dev_client, answer)
    print(verdict.hint)
    assert not verdict.ok and line in verdict.hint and "\n" not in verdict.hint


def notebook_05_namespace() -> dict[str, Any]:
    return {
        "activity": activity,
        "ActivityEnvironment": ActivityEnvironment,
        "ApplicationError": ApplicationError,
        "ApplicationErrorCategory": ApplicationErrorCategory,
        "Order": Order,
        "PickList": PickList,
        "dataclasses": dataclasses,
        "new_order_id": new_order_id,
        "pick_items": pick_items,
    }


TEST_SERVER = str(devserver.time_skipping_binary())


async def test_the_refused_delivery_solution_undoes_payment_then_reservation(ledger: Any) -> None:
    answer = solution("05_testing_workflows_1", notebook_05_namespace())
    assert await check_refused_delivery(answer, TEST_SERVER, WAIT_SECONDS) == Verdict(True)


@activity.defn(name="initiate_delivery")
async def refuses_retryably(order: Order) -> str:
    raise ApplicationError("no carrier can take the parcel")


@activity.defn(name="initiate_delivery")
async def delivers_anyway(order: Order) -> str:
    return "TRACK-1"


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (refuses_retryably, "initiate_delivery failed and Temporal retries it (attempt "),
        (delivers_anyway, "the order ended completed with compensations []: the mock must raise"),
    ],
    ids=lambda value: getattr(value, "__name__", "line"),
)
async def test_a_mock_mistake_gets_its_line(ledger: Any, answer: Any, line: str) -> None:
    verdict = await check_refused_delivery(answer, TEST_SERVER, WAIT_SECONDS)
    print(verdict.hint)
    assert not verdict.ok and line in verdict.hint and "\n" not in verdict.hint


async def test_the_activity_test_solution_passes_and_catches_a_picker_that_starts_over(
    ledger: Any,
) -> None:
    answer = solution("05_testing_workflows_2", notebook_05_namespace())
    assert await check_activity_test(answer, WAIT_SECONDS) == Verdict(True)


def learners_test(source: str) -> Any:
    namespace = notebook_05_namespace()
    exec(source, namespace)
    return namespace["test"]


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (
            "async def test():\n"
            "    await ActivityEnvironment().run(pick_items, PickList('T-1', 2))",
            "your test also passes for a pick_items that ignores its last heartbeat",
        ),
        (
            "async def test():\n"
            "    report = ActivityEnvironment().run(pick_items, PickList('T-2', 2))\n"
            "    assert report.resumed_from == 0",
            "your test fails on the real pick_items: AttributeError: 'coroutine' object has no "
            "attribute 'resumed_from': the call that made it is async and needs `await`",
        ),
        (
            "async def test():\n"
            "    report = await ActivityEnvironment().run(pick_items, PickList('T-3', 2))\n"
            "    assert report.resumed_from == 7, report",
            "your test fails on the real pick_items: AssertionError: PickingReport(",
        ),
        ("def test():\n    pass", "answer must be your test itself: an `async def test_...():`"),
    ],
)
async def test_an_activity_test_mistake_gets_its_line(ledger: Any, source: str, line: str) -> None:
    verdict = await check_activity_test(learners_test(source), WAIT_SECONDS)
    print(verdict.hint)
    assert not verdict.ok and line in verdict.hint and "\n" not in verdict.hint
