"""Starter: places one order from the terminal and prints how it ended.

    python starter.py 500                       # from inside order_management/, as the seed does
    python -m order_management.starter 1500 --no-wait
    python starter.py 500 --fail-at payment     # watch the saga undo the reservation

A worker must be running (`python worker.py`) for the order to make progress.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from typing import NoReturn

from order_management.local import config
from order_management.local.connection import connect, exit_process
from order_management.orders import await_result, place_order
from order_management.sdk_errors import EXPLAINED, explain
from order_management.shared import (
    DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    FAILURE_STEPS,
    InvalidOrder,
    Order,
    OrderResult,
    make_order,
    validate_order,
)

HINT_AFTER_SECONDS = 10.0
"""Say what the order is waiting for if no result has come by then."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the exit code (2) tells scripts it was input.
        # Arguments are echoed back: escape control characters so it stays one line.
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        self.exit(2, f"{self.prog}: {shown} (see --help)\n")


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"amount must be a number, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"amount must be a finite number above 0, not {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"seconds must be 0 or more, not {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of attempts: {text!r}")
    return int(text)


def parse_order(argv: list[str] | None = None) -> tuple[Order, bool]:
    """The order the command line describes, and whether to wait for its result."""
    parser = _Parser(prog="starter.py", description="Place one order and print its result.")
    parser.add_argument("amount", type=_amount, help="order total in dollars, e.g. 500")
    parser.add_argument("--order-id", help="default: ORDER-<AMOUNT>")
    parser.add_argument("--fail-at", choices=FAILURE_STEPS, help="make this step fail")
    parser.add_argument(
        "--transient",
        type=_count,
        default=0,
        metavar="N",
        help="the failing step fails N attempts, then succeeds (default: 0, it fails for good)",
    )
    parser.add_argument(
        "--approval-timeout",
        type=_seconds,
        metavar="SECONDS",
        default=DEFAULT_APPROVAL_TIMEOUT_SECONDS,
        help="how long an order over $1000 waits for approval (default: 300)",
    )
    parser.add_argument(
        "--delay",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="mock latency of each service call",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="start the order, print its workflow id and Web UI link, return",
    )
    args = parser.parse_args(argv)
    order = make_order(
        args.amount,
        args.order_id,
        fail_at=args.fail_at,
        transient_failures=args.transient,
        approval_timeout_seconds=args.approval_timeout,
        mock_delay_seconds=args.delay,
    )
    return order, not args.no_wait


def describe(result: OrderResult) -> str:
    """The lines the starter prints for a finished order."""
    lines = [f"Result: {result.message}", f"Status: {result.status}"]
    for label, value in (
        ("Transaction ID", result.transaction_id),
        ("Reservation ID", result.reservation_id),
        ("Tracking Number", result.tracking_number),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if result.compensations:
        lines.append(f"Compensations: {', '.join(result.compensations)}")
    return "\n".join(lines)


async def run(order: Order, wait: bool) -> int:
    client = await connect(start_server=False)
    handle = await place_order(client, order)
    settings = config.temporal_settings()
    if not wait:
        print(f"Started workflow: {handle.id}")
        print(f"Web UI: {settings.workflow_url(handle.id)}")
        return 0
    if order.requires_approval:
        print(
            f"Order {order.order_id} is over $1000 and waits for approval. From another "
            f"terminal: temporal workflow signal --workflow-id {handle.id} "
            "--name approve_order --input true",
            flush=True,
        )
    result = asyncio.ensure_future(await_result(handle, timeout=None))
    done, _ = await asyncio.wait({result}, timeout=HINT_AFTER_SECONDS)
    if not done and not order.requires_approval:
        print(f"Still waiting for {handle.id}: is a worker running? (python worker.py)", flush=True)
    print(describe(await result))
    return 0


def main(argv: list[str] | None = None) -> int:
    order, wait = parse_order(argv)
    try:
        validate_order(order)  # before connecting: bad input changes nothing anywhere
    except InvalidOrder as err:
        print(err, file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(order, wait))
    except EXPLAINED as err:  # a sentence to act on, not a traceback
        print(explain(err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nStopped waiting. Order {order.order_id} carries on in Temporal.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    exit_process(main())
