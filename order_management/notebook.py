"""Notebook helpers: what a workshop cell needs, in one call each.

A notebook kernel is a long-running asyncio program, so the worker runs there as a
background task: it keeps polling between cells (a signal sent from a terminal while no
cell runs still completes the order). Every wait has a timeout, so a broken worker gives a
message in the cell, never an endless cell.
"""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from order_management import config
from order_management.connection import connect
from order_management.orders import DEFAULT_RESULT_TIMEOUT_SECONDS, await_result
from order_management.shared import OrderResult
from order_management.worker import build_worker, start_polling


class KernelWorker:
    """The one worker of this kernel. Starting it again replaces the old one cleanly:
    never two, and never Temporal's "workers are single use" error."""

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self, client: Client, task_queue: str | None = None) -> Worker:
        await self.stop()
        worker = build_worker(client, task_queue)
        self.task = await start_polling(worker)
        self.task.add_done_callback(_report_worker_end)
        self.worker = worker
        return worker

    async def stop(self) -> None:
        if self.worker is not None and self.running:
            await self.worker.shutdown()
        if self.task is not None:
            # Suppress the report: this is an ordinary stop, not a crash.
            self.task.remove_done_callback(_report_worker_end)
            await asyncio.gather(self.task, return_exceptions=True)
        self.worker = None
        self.task = None


def _report_worker_end(task: asyncio.Task[None]) -> None:
    # Runs when the worker task ends on its own: say so in the notebook, never silently.
    if task.cancelled():
        print("The in-kernel worker was cancelled; run start_worker() to start it again.")
    elif task.exception() is not None:
        print(f"The in-kernel worker stopped with an error: {task.exception()!r}. "
              "Run start_worker() to start it again.")


kernel_worker = KernelWorker()


async def connect_and_show() -> Client:
    """Connect (starting the local dev server if nothing answers) and print where to look."""
    client = await connect()
    settings = config.temporal_settings()
    print(f"Connected to Temporal at {settings.address}, namespace {settings.namespace!r}")
    print(f"Web UI: {settings.ui_url}")
    return client


async def start_worker(client: Client, task_queue: str | None = None) -> Worker:
    """Start (or restart) this kernel's worker as a background task."""
    worker = await kernel_worker.start(client, task_queue)
    print(f"Worker polling task queue {worker.task_queue!r} in this kernel.")
    return worker


async def stop_worker() -> None:
    await kernel_worker.stop()
    print("Worker stopped.")


def new_order_id(prefix: str = "ORDER") -> str:
    """A fresh order id, so Restart & Run All never collides with an earlier run."""
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def workflow_link(workflow_id: str) -> str:
    """The Web UI page of a workflow (shown as a link by Jupyter)."""
    return config.temporal_settings().workflow_url(workflow_id)


async def result_of(handle: WorkflowHandle,
                    timeout: float = DEFAULT_RESULT_TIMEOUT_SECONDS) -> OrderResult:
    """The order's result within `timeout` seconds, or an `OrderError` saying what is wrong."""
    return await await_result(handle, timeout)
