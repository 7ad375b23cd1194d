"""One-call wrappers of SDK calls, from before the cells made the SDK calls themselves.

Being retired: notebooks call `handle.query`, `handle.signal`, `handle.result` directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio.client import WorkflowHandle

from order_management.notebook.kernel_worker import QUERY_TIMEOUT_SECONDS, kernel_worker
from order_management.orders import (
    DEFAULT_RESULT_TIMEOUT_SECONDS,
    OrderError,
    await_result,
    send_approval,
)
from order_management.shared import APPROVAL_THRESHOLD, OrderResult
from order_management.workflow import OrderWorkflow


async def result_of(handle: WorkflowHandle,
                    timeout: float = DEFAULT_RESULT_TIMEOUT_SECONDS) -> OrderResult:
    """The order's result within `timeout` seconds, or an `OrderError` saying what is wrong."""
    kernel_worker.raise_if_stopped()
    return await await_result(handle, timeout)


async def ask(handle: WorkflowHandle, query: Callable[..., Any]) -> Any:
    """Run a query (answered by a worker), or raise `OrderError` if no worker answers."""
    try:
        return await asyncio.wait_for(handle.query(query), QUERY_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        hint = ("is a worker running on this task queue?" if kernel_worker.running else
                "this kernel runs no worker: run `await start_worker(client)`")
        raise OrderError(f"No worker answered a query to {handle.id} within "
                         f"{QUERY_TIMEOUT_SECONDS:g} s; {hint}") from None


async def current_status(handle: WorkflowHandle) -> str:
    """The order's status, by the `get_status` query."""
    return await ask(handle, OrderWorkflow.get_status)


async def approve_if_waiting(handle: WorkflowHandle) -> None:
    """Approve the order if it needs approval (02 is about deciding; elsewhere we go on)."""
    if await ask(handle, OrderWorkflow.requires_approval):
        await send_approval(handle, True)
        print(f"{handle.id} is over ${APPROVAL_THRESHOLD:,.0f} and would wait for a person: "
              "approved it with the approve_order signal, so it can go on "
              "(02_human_approval.ipynb shows every way to decide).")


async def decide_by_signal(handle: WorkflowHandle, approve: bool | None) -> None:
    """Send `approve_order(approve)`, or explain why nothing is sent (no approval needed,
    or `approve` is None: let the approval time out)."""
    if not await ask(handle, OrderWorkflow.requires_approval):
        print(f"{handle.id} does not need approval (not over ${APPROVAL_THRESHOLD:,.0f}), so the "
              "workflow never waited: there is no decision to send. Set ORDER_AMOUNT above "
              "1000 in the parameters cell to see it wait.")
    elif approve is None:
        print("APPROVE is None: nobody decides, so the workflow's approval timer runs out and "
              "the order ends approval_timed_out, with nothing reserved or charged.")
    else:
        await send_approval(handle, approve)
        print(f"Sent the signal approve_order({approve}) to {handle.id}.")
