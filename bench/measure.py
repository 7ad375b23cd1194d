"""The measurements: start-to-result latency of one order at a time, and throughput of many
orders at once, for the order workflow and for the engine's floor (`bench.floor`).

Every wait has a timeout: a benchmark that hangs measures nothing.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Worker

from bench.floor import FloorWorkflow, noop
from order_management.orders import await_result, place_order
from order_management.shared import OrderStatus, make_order
from order_management.worker import build_worker

ORDER_ACTIVITIES = 3
"""reserve_inventory, process_payment, initiate_delivery: what the floor workflow mirrors."""

RESULT_TIMEOUT_SECONDS = 120.0

Run = Callable[[Client, str, str], Awaitable[None]]
"""Runs one workflow to its end: (client, task queue, unique id). Raises if it went wrong."""


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p95_ms: float
    runs: int


async def run_order(client: Client, task_queue: str, unique: str) -> None:
    """An order under $1000 with no mock delay: straight through its three steps."""
    handle = await place_order(client, make_order(500, f"BENCH-{unique}"), task_queue)
    result = await await_result(handle, RESULT_TIMEOUT_SECONDS)
    if result.status != OrderStatus.COMPLETED:
        raise RuntimeError(f"{handle.id} ended {result.status}: {result.message}")


async def run_floor(client: Client, task_queue: str, unique: str) -> None:
    await asyncio.wait_for(
        client.execute_workflow(
            FloorWorkflow.run, ORDER_ACTIVITIES, id=f"floor-{unique}", task_queue=task_queue
        ),
        RESULT_TIMEOUT_SECONDS,
    )


def floor_worker(client: Client, task_queue: str) -> Worker:
    """The floor's worker: the order worker's own options, the no-op workflow instead."""
    return build_worker(client, task_queue, workflows=[FloorWorkflow], activities=[noop])


async def warm_up(client: Client, task_queue: str, run: Run, count: int) -> None:
    """Unmeasured runs: a worker's first workflows pay for imports and the sandbox."""
    for _ in range(count):
        await run(client, task_queue, uuid.uuid4().hex[:12])


async def latencies(
    client: Client, kinds: Mapping[str, tuple[str, Run]], runs: int, warmup: int
) -> dict[str, Latency]:
    """Start-to-result times of `runs` workflows of each kind (name -> (task queue, run)),
    one at a time, the kinds taking turns, so that a busy machine slows them all alike."""
    for task_queue, run in kinds.values():
        await warm_up(client, task_queue, run, warmup)
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(runs):
        for name, (task_queue, run) in kinds.items():
            began = time.perf_counter()
            await run(client, task_queue, uuid.uuid4().hex[:12])
            samples[name].append((time.perf_counter() - began) * 1000)
    return {
        name: Latency(
            median_ms=statistics.median(times),
            p95_ms=statistics.quantiles(times, n=20)[-1],
            runs=runs,
        )
        for name, times in samples.items()
    }


async def throughput(client: Client, task_queue: str, run: Run, count: int) -> float:
    """Workflows per second: `count` started at once, until the last result is in."""
    batch = uuid.uuid4().hex[:6]
    began = time.perf_counter()
    await asyncio.gather(*(run(client, task_queue, f"{batch}-{n}") for n in range(count)))
    return count / (time.perf_counter() - began)
