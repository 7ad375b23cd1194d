"""The client side: placing orders and talking to their workflows.

Starters, notebooks and tests all go through these functions, so a mistake a user can make
(an order id already running, a decision for an order that has finished, a worker that is
not running) comes back as one `OrderError` with a sentence to act on, never a stack trace.
"""

from __future__ import annotations

import asyncio

from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from order_management.errors import WorkshopError
from order_management.local import config
from order_management.sdk_errors import explain
from order_management.shared import Order, OrderResult, validate_order, workflow_id_for
from order_management.workflow import OrderWorkflow

DEFAULT_RESULT_TIMEOUT_SECONDS = 60.0


class OrderError(WorkshopError, RuntimeError):
    """Something a user asked of an order cannot be done; the message says why."""


async def place_order(
    client: Client, order: Order, task_queue: str | None = None
) -> WorkflowHandle[OrderWorkflow, OrderResult]:
    """Validate the order and start its workflow (id `order-workflow-<order_id>`)."""
    validate_order(order)
    workflow_id = workflow_id_for(order.order_id)
    try:
        return await client.start_workflow(
            OrderWorkflow.run, order, id=workflow_id, task_queue=task_queue or config.task_queue()
        )
    except WorkflowAlreadyStartedError as err:
        raise OrderError(f"Order {order.order_id}: {explain(err)}") from None


def order_handle(client: Client, order_id: str) -> WorkflowHandle[OrderWorkflow, OrderResult]:
    """The handle of an order's workflow (its latest run), for queries, signals and updates."""
    return client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(order_id))


async def send_approval(handle: WorkflowHandle, approved: bool) -> None:
    """Signal the approver's decision. Signals to a finished order are refused here."""
    try:
        await handle.signal(OrderWorkflow.approve_order, approved)
    except RPCError as err:
        raise OrderError(f"{handle.id}: {explain(err)}") from None


async def decide(handle: WorkflowHandle, approved: bool) -> str:
    """Send the decision as an Update and return the outcome ("approved" or "rejected")."""
    try:
        return await handle.execute_update(OrderWorkflow.decide, approved)
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise OrderError(f"{handle.id}: {explain(err)}") from None


async def await_result(
    handle: WorkflowHandle, timeout: float | None = DEFAULT_RESULT_TIMEOUT_SECONDS
) -> OrderResult:
    """The order's result, waiting at most `timeout` seconds (None: as long as it takes)."""
    try:
        return await asyncio.wait_for(handle.result(), timeout)
    except asyncio.TimeoutError as err:
        status = await _status_or_none(handle)
        raise OrderError(
            f"{handle.id} (status: {status or 'unknown'}), after {timeout:g} s: {explain(err)}"
        ) from None
    except (WorkflowFailureError, RPCError) as err:
        raise OrderError(f"{handle.id}: {explain(err)}") from None


async def _status_or_none(handle: WorkflowHandle) -> str | None:
    """The order's status, or None if no worker answers the query in time."""
    try:
        return await asyncio.wait_for(handle.query(OrderWorkflow.get_status), 5)
    except (asyncio.TimeoutError, RPCError):
        return None
