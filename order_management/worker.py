"""Worker: the process that polls a task queue and runs the order workflows and activities.

Temporal never runs your code itself; workers do. Start as many as you like, on as many
machines as you like (`python -m order_management.worker`): they share the task queue, and
if one dies another carries on from the order's history.

    python worker.py                      # from inside order_management/, as the seed does
    python -m order_management.worker     # from anywhere
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DefaultPayloadConverter
from temporalio.worker import Worker

from order_management import activities as order_activities
from order_management.beyond.batch import LedgerReportWorkflow, summarize_ledger
from order_management.beyond.notifications import send_notification
from order_management.beyond.sub_orders import SplitOrderWorkflow
from order_management.beyond.warehouse import PickingWorkflow, pick_items
from order_management.deadline import Deadline
from order_management.local import config
from order_management.local.connection import ServerUnavailable, connect, exit_process
from order_management.shared import Order, order_from_json
from order_management.workflow import OrderWorkflow

WORKER_START_TIMEOUT_SECONDS = 30.0
PARENT_PID_ENV = "ORDER_WORKER_PARENT_PID"
"""Set by `WorkerProcess`: the worker stops once that program is gone (a notebook kernel
killed outright cannot stop it, and an orphan would take the next kernel's activities)."""
ORPHAN_CHECK_SECONDS = 1.0
STICKY_TIMEOUT = timedelta(seconds=2)
"""How long the server keeps an order's next task (or a query) for the worker that ran it
last, before any worker may take it. A workshop kernel often dies without saying goodbye
(Restart kernel): with the SDK's 10 s, queries to its orders from other kernels time out."""


class OrderInputConverter(DefaultPayloadConverter):
    """The SDK's payload converter, except that an order is read by `order_from_json`.

    An order can come from any client (the temporal CLI, the Web UI, another SDK) as any
    JSON. The SDK's own reading raises on JSON that is no order, and a workflow whose input
    cannot be read fails its *workflow task*, again and again: the order stays Running for
    good. Read this way, such input becomes an `UnreadableOrder`, which the workflow's first
    line refuses: the workflow fails at once, and its queries still answer."""

    def from_payloads(
        self, payloads: Sequence[Payload], type_hints: list[type] | None = None
    ) -> list[Any]:
        hints = list(type_hints or [])
        return [
            self._read(payload, hints[index] if index < len(hints) else None)
            for index, payload in enumerate(payloads)
        ]

    def _read(self, payload: Payload, hint: type | None) -> Any:
        if hint is not Order:
            return super().from_payloads([payload], [hint] if hint else None)[0]
        try:
            value = super().from_payloads([payload])[0]  # plain JSON values, no type
        except Exception as err:  # an encoding no JSON client uses, or bytes that are no JSON
            value = f"<unreadable input: {err}>"
        return order_from_json(value)


def with_order_input(client: Client) -> Client:
    """`client`, reading orders with `OrderInputConverter` (same connection, same options)."""
    converter = dataclasses.replace(
        client.data_converter, payload_converter_class=OrderInputConverter
    )
    config = client.config()
    config["data_converter"] = converter
    return Client(**config)


def build_worker(
    client: Client,
    task_queue: str | None = None,
    *,
    workflows: Sequence[type] = (
        OrderWorkflow,
        SplitOrderWorkflow,
        LedgerReportWorkflow,
        PickingWorkflow,
    ),
    activities: Sequence[Callable[..., Any]] = (
        *order_activities.ALL,
        send_notification,
        summarize_ledger,
        pick_items,
    ),
) -> Worker:
    """A worker for the workshop's workflows (orders, split orders, the scheduled ledger
    report, the warehouse's picking) and their activities (not started yet).

    The benchmark passes its no-op workflow instead, to measure the engine's floor with the
    same worker options. Orders are read with `OrderInputConverter`, whatever the client's
    own converter does with the rest."""
    return Worker(
        with_order_input(client),
        task_queue=task_queue or config.task_queue(),
        workflows=list(workflows),
        activities=list(activities),
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )


async def start_polling(worker: Worker) -> asyncio.Task[None]:
    """Run `worker` in a background task and return once it polls (its namespace checked).

    Raises the worker's own error if it cannot start (an unknown namespace, say).
    """
    task = asyncio.create_task(worker.run(), name=f"worker:{worker.task_queue}")
    deadline = Deadline(WORKER_START_TIMEOUT_SECONDS)
    while not worker.is_running:
        if task.done():
            task.result()  # raises the worker's error
        if deadline.passed:
            raise TimeoutError(
                f"The worker did not start polling within {WORKER_START_TIMEOUT_SECONDS:g} s"
            )
        await asyncio.sleep(0.01)
    return task


@asynccontextmanager
async def polling(worker: Worker) -> AsyncIterator[Worker]:
    """`worker` polling in a background task of this event loop for the duration of the
    block, then shut down."""
    task = await start_polling(worker)
    try:
        yield worker
    finally:
        await worker.shutdown()
        await task


async def serve(task_queue: str | None = None) -> None:
    """Run a worker until SIGINT or SIGTERM, then shut it down gracefully."""
    client = await connect()
    worker = build_worker(client, task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    running = await start_polling(worker)
    print(f"Worker ready and polling task queue: {worker.task_queue}", flush=True)
    parent = os.environ.get(PARENT_PID_ENV)
    # Held in a name, so the task is not garbage-collected while it watches.
    _watcher = asyncio.create_task(_stop_when_orphaned(int(parent), stop)) if parent else None
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        running.result()
    await worker.shutdown()
    print("Worker stopped.", flush=True)


async def _stop_when_orphaned(parent_pid: int, stop: asyncio.Event) -> None:
    """Set `stop` once the program that started this process is gone (it was reparented)."""
    while os.getppid() == parent_pid:
        await asyncio.sleep(ORPHAN_CHECK_SECONDS)
    print("The program that started this worker is gone: stopping.", flush=True)
    stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m order_management.worker", description="Run an order-management worker."
    )
    parser.add_argument("--task-queue", help=f"default: {config.task_queue()}")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.task_queue))
    except (ServerUnavailable, config.ConfigurationError) as err:
        print(err, file=sys.stderr)
        return 1
    except RuntimeError as err:  # the worker's own fatal errors, e.g. an unknown namespace
        print(f"Worker failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_process(main())
