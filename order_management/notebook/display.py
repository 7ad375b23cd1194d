"""What a cell shows about an order besides the SDK's answers: Web UI links, a live status
line, how long a cell may wait, and whether an order will wait for a person."""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from order_management.deadline import ANSWER_TIMEOUT_SECONDS, Deadline
from order_management.local import config
from order_management.notebook.kernel_worker import kernel_worker
from order_management.orders import OrderError
from order_management.shared import (
    APPROVAL_THRESHOLD,
    FAILURE_STEPS,
    Order,
    OrderStatus,
    validate_order,
)
from order_management.workflow import OrderWorkflow

STATUS_POLL_SECONDS = 0.25
"""How often the live status line asks the workflow (a query is cheap, but not free)."""


def new_order_id(prefix: str = "ORDER") -> str:
    """A fresh order id, so Restart & Run All never collides with an earlier run."""
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def workflow_link(workflow_id: str) -> str:
    """The Web UI page of a workflow (shown as a link by Jupyter)."""
    return config.temporal_settings().workflow_url(workflow_id)


@dataclass(frozen=True)
class WebLink:
    """A Web UI page: a clickable link in a notebook, the plain address elsewhere."""

    url: str
    label: str

    def _repr_html_(self) -> str:
        url, label = html.escape(self.url), html.escape(self.label)
        return f'Web UI: <a href="{url}" target="_blank">{label}</a>'

    def __repr__(self) -> str:
        return f"Web UI: {self.url}"


def web_ui_link(handle: WorkflowHandle) -> WebLink:
    """The workflow's Web UI page, shown as a link when it is a cell's last expression."""
    return WebLink(workflow_link(handle.id), handle.id)


async def watch_status(
    handle: WorkflowHandle, until: Collection[str] = OrderStatus.FINAL, timeout: float = 30.0
) -> str:
    """Print the order's status (the `get_status` query) each time it changes, until it is
    one of `until`. Returns that status, or raises `OrderError` after `timeout` seconds
    saying where it is."""
    kernel_worker.raise_if_stopped()
    waited = Deadline(timeout)
    seen: str | None = None
    while True:
        status = await asyncio.wait_for(
            handle.query(OrderWorkflow.get_status), ANSWER_TIMEOUT_SECONDS
        )
        elapsed = waited.elapsed
        if status != seen:
            print(f"{elapsed:5.1f} s  {status}")
            seen = status
        if status in until:
            return status
        if waited.passed:
            raise OrderError(
                f"{handle.id} is still {status} after {timeout:g} s "
                f"(waited for: {', '.join(until)})"
            )
        await asyncio.sleep(STATUS_POLL_SECONDS)


def time_allowed(order: Order, slack: float = 30.0) -> float:
    """Seconds to wait for an order's result (approval aside): every service call it may make
    (three steps, their retries, two compensations) at its mock delay, the retries' backoff
    (2 s at most each), and `slack` for a busy laptop."""
    calls = 2 * len(FAILURE_STEPS) - 1 + order.transient_failures
    return slack + calls * order.mock_delay_seconds + 2.0 * order.transient_failures


def explain_approval(order: Order) -> None:
    """Say whether this order will wait for a person, and why (or why it cannot start)."""
    validate_order(order)  # an amount edited by hand: one line to fix, not a sentence on it
    amount = f"${order.total_amount:,.2f}"
    if order.requires_approval:
        print(
            f"{amount} is over ${APPROVAL_THRESHOLD:,.0f}: the workflow will wait for an "
            f"approval decision (for at most {order.approval_timeout_seconds:g} s) before "
            "it reserves, charges or ships anything."
        )
    else:
        print(
            f"{amount} is not over ${APPROVAL_THRESHOLD:,.0f}: no approval is needed, the "
            "workflow goes straight to its three steps."
        )


async def terminate_if_running(client: Client, workflow_id: str, reason: str) -> None:
    """End a workflow left running by an earlier, interrupted run of a notebook."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError:  # never started: nothing to end
        return
    if running:
        await handle.terminate(reason=reason)
        print(f"Terminated {workflow_id}, still running from an earlier run ({reason}).")
