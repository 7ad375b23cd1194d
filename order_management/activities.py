"""Activities: the order's side effects, each a call to a mock service that writes the ledger.

Activities are where the non-deterministic world lives (services, databases, clocks), so
Temporal retries them and records their results. Each one is idempotent, keyed by the
workflow run (see `ledger`), because Temporal runs an activity *at least* once.

Learners make the services misbehave through the order's failure flags:
- `fail_at=<step>`, `transient_failures=0`: the service refuses the order for good. The
  error is non-retryable, so the workflow compensates.
- `fail_at=<step>`, `transient_failures=N`: the service does its work but its answer is
  lost for the first N attempts (a timeout). Temporal retries; the idempotent ledger
  returns the first attempt's reference, so nothing is done twice.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from order_management.ledger import Ledger, OrderRun, OutOfStock
from order_management.local import config
from order_management.shared import Order, Step

# Why a permanent failure happened, by step: the error type a workflow (or a test) can match.
REFUSALS = {
    Step.INVENTORY: ("InventoryUnavailable", "the warehouse cannot reserve the items"),
    Step.PAYMENT: ("PaymentDeclined", "the card was declined"),
    Step.DELIVERY: ("DeliveryUnavailable", "no carrier can take the parcel"),
}


@lru_cache(maxsize=4)
def _ledger_at(path: Path) -> Ledger:
    return Ledger(path)


def ledger() -> Ledger:
    """The ledger this process writes to (`ORDER_LEDGER_DB`, read at call time)."""
    return _ledger_at(config.ledger_path())


def _order_run(order: Order) -> OrderRun:
    run_id = activity.info().workflow_run_id
    # Set for every activity a workflow schedules (None only for a standalone activity).
    assert run_id is not None
    return OrderRun(order_id=order.order_id, run_id=run_id)


async def _call_service(order: Order, step: str) -> None:
    """The part of a service call before its effect: latency, and a refusal if asked for."""
    if order.mock_delay_seconds:
        await asyncio.sleep(order.mock_delay_seconds)
    if order.fail_at == step and order.transient_failures == 0:
        error_type, reason = REFUSALS[step]
        raise ApplicationError(
            f"{reason} (fail_at={step!r})",
            type=error_type,
            non_retryable=True,
            category=ApplicationErrorCategory.BENIGN,
        )


def _answer_lost(order: Order, step: str) -> None:
    """The part after the effect: for a transient failure, the service's answer is lost."""
    attempt = activity.info().attempt
    if order.fail_at == step and attempt <= order.transient_failures:
        raise ApplicationError(
            f"{step} service timed out after doing its work (attempt {attempt} of "
            f"{order.transient_failures} that fail); Temporal will retry",
            type="ServiceTimeout",
            # Benign: an expected failure. The worker logs it at DEBUG (still with its
            # traceback) instead of WARNING, so a default log level shows nothing.
            category=ApplicationErrorCategory.BENIGN,
        )


@activity.defn
async def reserve_inventory(order: Order) -> str:
    """Reserve every item of the order; returns the reservation id."""
    await _call_service(order, Step.INVENTORY)
    try:
        reservation_id = await asyncio.to_thread(ledger().reserve, _order_run(order), order.items)
    except OutOfStock as err:
        raise ApplicationError(
            str(err),
            type="OutOfStock",
            non_retryable=True,
            category=ApplicationErrorCategory.BENIGN,
        ) from None
    _answer_lost(order, Step.INVENTORY)
    activity.logger.info("Reserved %s for %s", reservation_id, order.order_id)
    return reservation_id


@activity.defn
async def process_payment(order: Order) -> str:
    """Charge the order's total; returns the transaction id."""
    await _call_service(order, Step.PAYMENT)
    transaction_id = await asyncio.to_thread(ledger().charge, _order_run(order), order.total_amount)
    _answer_lost(order, Step.PAYMENT)
    activity.logger.info("Charged %.2f as %s", order.total_amount, transaction_id)
    return transaction_id


@activity.defn
async def initiate_delivery(order: Order) -> str:
    """Hand the order to the carrier; returns the tracking number."""
    await _call_service(order, Step.DELIVERY)
    tracking_number = await asyncio.to_thread(ledger().ship, _order_run(order))
    _answer_lost(order, Step.DELIVERY)
    activity.logger.info("Shipped %s as %s", order.order_id, tracking_number)
    return tracking_number


@activity.defn
async def release_inventory(order: Order) -> None:
    """Compensation for `reserve_inventory`: put the reserved items back in stock."""
    await asyncio.to_thread(ledger().release, _order_run(order))


@activity.defn
async def refund_payment(order: Order) -> None:
    """Compensation for `process_payment`: refund the charge."""
    await asyncio.to_thread(ledger().refund, _order_run(order))


ALL = [reserve_inventory, process_payment, initiate_delivery, release_inventory, refund_payment]
