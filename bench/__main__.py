"""`python -m bench` (or `make bench`): measure, print a table, write bench/results.json.

1. The engine's floor on a dev server with Temporal's default settings: the "before".
2. On a dev server with the workshop's settings (`devserver.DYNAMIC_CONFIG`, `SQLITE_PRAGMAS`):
   the floor again, an order's start-to-result latency, and the throughput of 500 concurrent
   orders with the worker in the client's event loop (as in the notebooks) and in a process
   of its own.
3. The Run All time of every notebook with its defaults, and the wall and CPU time of
   `make test` and `make test-fast` (the same pytest-xdist workers as the Makefile).

Options: --quick skips step 3; --orders, --runs and --rounds change the sample sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench.measure import (
    floor_worker,
    latencies,
    run_floor,
    run_order,
    throughput,
    warm_up,
)
from order_management.local import devserver
from order_management.notebook.worker_process import WorkerProcess
from order_management.worker import build_worker, polling
from tests.helpers.servers import REPO, free_port

RESULTS = Path(__file__).resolve().parent / "results.json"
WARMUP_RUNS = 5


@contextmanager
def dev_server(engine_defaults: bool = False) -> Iterator[str]:
    """A dev server of the benchmark's own; TEMPORAL_ADDRESS points at it while it runs."""
    port = free_port()
    devserver.start(port, engine_defaults=engine_defaults, die_with_parent=True)
    os.environ["TEMPORAL_ADDRESS"] = f"localhost:{port}"
    try:
        yield f"localhost:{port}"
    finally:
        devserver.stop(port)


def _queue(name: str) -> str:
    return f"bench-{name}-{uuid.uuid4().hex[:6]}"


async def default_config_figures(address: str, args: argparse.Namespace) -> dict[str, float]:
    """The floor on a server with Temporal's default settings: what the tuning started from."""
    client = await Client.connect(address)
    floor_queue = _queue("floor")
    async with polling(floor_worker(client, floor_queue)):
        floor = (
            await latencies(client, {"floor": (floor_queue, run_floor)}, args.runs, WARMUP_RUNS)
        )["floor"]
        per_second = await throughput(client, floor_queue, run_floor, args.orders)
    return {
        "default_config_floor_latency_median_ms": floor.median_ms,
        "default_config_floor_latency_p95_ms": floor.p95_ms,
        "default_config_throughput_floor": per_second,
    }


async def workshop_figures(address: str, args: argparse.Namespace) -> dict[str, Any]:
    """Orders against the floor on the workshop's server; the worker in the event loop
    against the worker in a process of its own, in turns (`--rounds`), averaged."""
    client = await Client.connect(address)
    order_queue, floor_queue = _queue("orders"), _queue("floor")
    async with (
        polling(build_worker(client, order_queue)),
        polling(floor_worker(client, floor_queue)),
    ):
        measured = await latencies(
            client,
            {"order": (order_queue, run_order), "floor": (floor_queue, run_floor)},
            args.runs,
            WARMUP_RUNS,
        )
        floor_per_second = await throughput(client, floor_queue, run_floor, args.orders)
    in_kernel, in_process = [], []
    for _ in range(args.rounds):
        async with polling(build_worker(client, order_queue)):
            in_kernel.append(await throughput(client, order_queue, run_order, args.orders))
        worker = WorkerProcess.start(order_queue)
        try:
            await warm_up(client, order_queue, run_order, WARMUP_RUNS)
            in_process.append(await throughput(client, order_queue, run_order, args.orders))
        finally:
            worker.stop()
    order, floor = measured["order"], measured["floor"]
    return {
        "order_latency_median_ms": order.median_ms,
        "order_latency_p95_ms": order.p95_ms,
        "floor_latency_median_ms": floor.median_ms,
        "floor_latency_p95_ms": floor.p95_ms,
        "throughput_floor": floor_per_second,
        "throughput_in_kernel": statistics.mean(in_kernel),
        "throughput_separate_process": statistics.mean(in_process),
        "throughput_rounds": {"in_kernel": in_kernel, "separate_process": in_process},
    }


def notebook_times(address: str, state: Path) -> dict[str, float | str]:
    """Run All of every notebook with its defaults, as tests/integration/test_run_all.py does."""
    from tests.helpers.notebooks import NOTEBOOKS, NotebookServer, run

    env = dict(
        os.environ,
        TEMPORAL_ADDRESS=address,
        ORDER_STATE_DIR=str(state),
        ORDER_LEDGER_DB=str(state / "notebooks-ledger.db"),
    )
    server = NotebookServer(port=int(address.rsplit(":", 1)[1]), env=env)
    times: dict[str, float | str] = {}
    for name in NOTEBOOKS:
        try:
            times[name] = round(run(name, server).seconds, 1)
        except BaseException as err:  # pytest.fail raises a BaseException
            if isinstance(err, KeyboardInterrupt):
                raise
            times[name] = f"failed: {str(err).strip().splitlines()[0][:120]}"
    return times


TIERS = {"test_suite": [], "test_fast": ["tests", "--ignore=tests/integration"]}
"""The two tiers as `make test` and `make test-fast` run them (the Makefile's PYTEST)."""

FAILURE_LINES = ("FAILED ", "ERROR ")
"""pytest's short summary lines of a test that failed or errored (`-rfE`, in the addopts)."""


def suite_time(workers: int) -> dict[str, Any]:
    """Wall and CPU seconds of each tier, run as the Makefile runs it, with `workers`
    pytest-xdist workers."""
    results: dict[str, Any] = {}
    for tier, selection in TIERS.items():
        cpu_before = _children_cpu_seconds()
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", str(workers), "-q", "-p", "no:cacheprovider"]
            + selection,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        results[f"{tier}_seconds"] = round(time.monotonic() - began, 1)
        results[f"{tier}_cpu_seconds"] = round(_children_cpu_seconds() - cpu_before, 1)
        lines = done.stdout.strip().splitlines() or ["(no output)"]
        results[f"{tier}_summary"] = lines[-1]
        results[f"{tier}_failures"] = [line for line in lines if line.startswith(FAILURE_LINES)]
    results["test_workers"] = workers
    return results


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def temporal_version() -> str:
    binary = devserver.temporal_binary()
    if binary is None:
        return "unknown"
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "temporal": temporal_version(),
        "dynamic_config": devserver.DYNAMIC_CONFIG,
        "sqlite_pragmas": devserver.SQLITE_PRAGMAS,
        "orders": args.orders,
        "latency_runs": args.runs,
        "throughput_rounds_run": args.rounds,
        # Other jobs on the machine move every figure: this says how busy it was.
        "load_average_before": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="order-bench-") as folder:
        state = Path(folder)
        os.environ.update(ORDER_STATE_DIR=str(state), ORDER_LEDGER_DB=str(state / "ledger.db"))
        print("Floor on a dev server with Temporal's default settings ...", flush=True)
        with dev_server(engine_defaults=True) as address:
            results.update(asyncio.run(default_config_figures(address, args)))
        print("Floor and orders on the workshop's dev server ...", flush=True)
        with dev_server() as address:
            results.update(asyncio.run(workshop_figures(address, args)))
            if not args.quick:
                print("Notebooks, Run All ...", flush=True)
                results["notebook_run_all_seconds"] = notebook_times(address, state)
    if not args.quick:
        print("The test suite ...", flush=True)
        results.update(suite_time(args.test_workers))
    results["load_average_after"] = os.getloadavg()[0]
    results["latency_ratio"] = (
        results["order_latency_median_ms"] / results["floor_latency_median_ms"]
    )
    results["throughput_in_kernel_vs_process"] = (
        results["throughput_in_kernel"] / results["throughput_separate_process"]
    )
    results["throughput_in_kernel_vs_floor"] = (
        results["throughput_in_kernel"] / results["throughput_floor"]
    )
    return results


def table(results: Mapping[str, Any]) -> str:
    rows = [
        (
            "machine",
            f"{results['cores']} cores, Python {results['python']}, load average "
            f"{results['load_average_before']:.1f} before, "
            f"{results['load_average_after']:.1f} after",
        ),
        ("temporal", results["temporal"].replace("\n", " ")),
        ("floor latency, default server settings", _ms(results, "default_config_floor_latency")),
        ("floor latency, workshop settings", _ms(results, "floor_latency")),
        ("order latency", _ms(results, "order_latency")),
        ("latency ratio (order / floor)", f"{results['latency_ratio']:.2f}x  (goal <= 1.3x)"),
        (
            "floor throughput, default server settings",
            f"{results['default_config_throughput_floor']:.1f}/s",
        ),
        ("floor throughput, workshop settings", f"{results['throughput_floor']:.1f}/s"),
        ("orders/s, worker in the event loop", f"{results['throughput_in_kernel']:.1f}/s"),
        ("orders/s, worker in its own process", f"{results['throughput_separate_process']:.1f}/s"),
        (
            "in-loop vs process",
            f"{results['throughput_in_kernel_vs_process']:.2f}x  (goal >= 0.9x)",
        ),
        ("in-loop vs floor", f"{results['throughput_in_kernel_vs_floor']:.2f}x"),
    ]
    for name, seconds in results.get("notebook_run_all_seconds", {}).items():
        rows.append((f"Run All {name}", f"{seconds} s" if isinstance(seconds, float) else seconds))
    for tier, label in (("test_suite", "make test"), ("test_fast", "make test-fast")):
        if f"{tier}_seconds" in results:
            rows.append(
                (
                    f"{label} ({results['test_workers']} workers)",
                    f"{results[tier + '_seconds']} s wall, {results[tier + '_cpu_seconds']} "
                    f"CPU-s  ({results[tier + '_summary']})",
                )
            )
            rows += [("", failure) for failure in results.get(f"{tier}_failures", [])]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _ms(results: Mapping[str, Any], prefix: str) -> str:
    return (
        f"median {results[prefix + '_median_ms']:.1f} ms, p95 {results[prefix + '_p95_ms']:.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="skip the notebooks and the test suite"
    )
    parser.add_argument("--orders", type=int, default=500, help="concurrent orders (500)")
    parser.add_argument("--runs", type=int, default=50, help="sequential runs for latency (50)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="throughput rounds, in-loop and separate process in turn (2)",
    )
    parser.add_argument(
        "--test-workers",
        type=int,
        default=4,
        help="pytest-xdist workers for the test suite, as the Makefile's TEST_WORKERS (4)",
    )
    args = parser.parse_args(argv)
    results = measure(args)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\nWritten to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    # Skip interpreter teardown, as the workshop's scripts do (sdk-python issue #300).
    from order_management.local.connection import exit_process

    exit_process(main())
