"""The SDK's errors as a learner's sentence: what happened, and what to do next.

Scripts (`orders.py`, `starter.py`) and notebook cells (`notebook/cell_errors.py`) meet the
same SDK exceptions: a wait that ran out, a workflow that failed, an update its validator
refused, a signal to a finished workflow. Their messages are gRPC statuses or the SDK's
insides; `explain` turns each into the one sentence both sides show.
"""

from __future__ import annotations

import asyncio

from temporalio.client import (
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from order_management.errors import WorkshopError

EXPLAINED: tuple[type[BaseException], ...] = (
    WorkshopError,
    WorkflowAlreadyStartedError,
    RPCError,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    TimeoutError,
    asyncio.TimeoutError,
)
"""The errors `explain` has a sentence for: the workshop's own (their message is it), the
SDK's, and the timeouts of a bounded wait."""

ANY_WORKER = "is a worker polling the workflow's task queue? If one is, its log says what fails"


def explain(error: BaseException, worker_hint: str = ANY_WORKER) -> str:
    """What the learner reads for `error`. `worker_hint` is the question a timeout asks about
    the worker (a notebook knows whether its kernel runs one)."""
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)) and not str(error):
        return no_answer(worker_hint)
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        # What `asyncio.wait_for(handle.execute_update(...))` raises when its time runs out.
        return no_answer(worker_hint)
    if isinstance(error, WorkflowFailureError) and isinstance(error.cause, ActivityError):
        activity = error.cause
        return (
            f"the workflow failed: its activity {activity.activity_type} failed for good: "
            f"{reason(activity.cause)}"
        )
    if isinstance(error, WorkflowFailureError):
        return f"the workflow failed: {reason(error.cause)}"
    if isinstance(error, WorkflowUpdateFailedError):
        return f"the update was refused: {reason(error.cause)}"
    if isinstance(error, WorkflowQueryFailedError):
        return f"the query failed: {error.message}"
    if isinstance(error, WorkflowQueryRejectedError):
        status = error.status.name if error.status else "unknown"
        return f"the query was rejected: the workflow's status is {status}"
    if isinstance(error, WorkflowAlreadyStartedError):
        return (
            # Not always "still running": a closed workflow's id is refused too when the
            # start's id reuse policy says so (REJECT_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY).
            f"{error.workflow_id} is taken: a workflow with that id is still running (an id "
            "runs one workflow at a time), or the start's id reuse policy refuses to reuse a "
            "closed one: let it end first (e.g. decide it), or start it with another id"
        )
    if isinstance(error, RPCError):
        return _refused(error, worker_hint)
    return str(error)


def reason(cause: BaseException | None) -> str:
    """A failure's own sentence (an ApplicationError's message, not its repr)."""
    if cause is None:
        return "no reason given"
    return getattr(cause, "message", None) or str(cause) or type(cause).__name__


def no_answer(worker_hint: str = ANY_WORKER) -> str:
    """The sentence for a wait that ran out."""
    return (
        "no answer before the timeout. A result comes only once the workflow ends (is it "
        "waiting for a decision?); a query or an update needs a worker to answer "
        f"({worker_hint}). The workflow's Web UI page shows where it is."
    )


def _refused(error: RPCError, worker_hint: str) -> str:
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:  # a call's rpc_timeout ran out
        return no_answer(worker_hint)
    if error.status == RPCStatusCode.CANCELLED and "Timeout" in error.message:
        return no_answer(worker_hint)  # a query no worker answered: the call timed out
    if error.status == RPCStatusCode.NOT_FOUND:
        if "completed" in error.message:
            return (
                "that workflow has already finished: it takes no more signals or updates "
                "(queries still answer). Start a new one to try again."
            )
        return f"no such workflow ({error.message}): check the id, or start it first"
    return f"Temporal refused the request: {error.message}"
