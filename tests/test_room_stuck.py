"""The instructor's view tells a stuck workflow from one that moves on (on a real dev server):
an order on a task queue no worker polls, a workflow whose workflow task keeps failing."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

from temporalio.client import Client
from temporalio.worker import Worker

from order_management.hosting.room.stuck import why_stuck
from order_management.progress.workflow import LearnerProgress
from order_management.shared import make_order
from order_management.worker import polling
from order_management.workflow import OrderWorkflow

STUCK_SECONDS = 30


async def until_stuck(client: Client, workflow_id: str, task_queue: str, because: str) -> str:
    """The view's reason once it says `because`, or the last one it gave in STUCK_SECONDS.
    A worker that has just started may not have polled yet: until it has, the view rightly
    says that nobody polls the queue."""
    deadline = time.monotonic() + STUCK_SECONDS
    reason = await why_stuck(client, workflow_id, task_queue)
    while because not in (reason or "") and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        reason = await why_stuck(client, workflow_id, task_queue)
    return str(reason)


async def test_an_order_no_worker_polls_for_is_stuck(dev_client: Client, task_queue: str) -> None:
    handle = await dev_client.start_workflow(
        OrderWorkflow.run,
        make_order(100.0, uuid.uuid4().hex[:8]),
        id=f"order-workflow-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    try:
        reason = await why_stuck(dev_client, handle.id, task_queue)
        assert reason is not None and "waits for a worker" in reason
    finally:
        await handle.terminate("test over")


async def test_a_workflow_task_that_keeps_failing_is_stuck(
    dev_client: Client, task_queue: str
) -> None:
    """A workflow type the worker does not know: its workflow task fails, again and again."""
    workflow_id = f"unknown-{uuid.uuid4().hex[:8]}"
    worker = Worker(dev_client, task_queue=task_queue, workflows=[LearnerProgress])
    async with polling(worker):
        handle = await dev_client.start_workflow(
            "NoSuchWorkflow", id=workflow_id, task_queue=task_queue
        )
        try:
            reason = await until_stuck(dev_client, workflow_id, task_queue, "keeps failing")
        finally:
            await handle.terminate("test over")
    assert re.fullmatch(rf"{workflow_id}: its workflow task keeps failing \(attempt \d+\)", reason)


async def test_a_workflow_a_worker_runs_is_not_stuck(dev_client: Client, task_queue: str) -> None:
    worker = Worker(dev_client, task_queue=task_queue, workflows=[LearnerProgress])
    async with polling(worker):
        handle = await dev_client.start_workflow(
            LearnerProgress.run, id=f"progress-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        try:
            await handle.query(LearnerProgress.progress)  # its first workflow task is done
            assert await why_stuck(dev_client, handle.id, task_queue) is None
        finally:
            await handle.terminate("test over")
