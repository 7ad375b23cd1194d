"""How the kernel shows a learner's mistake: one line that says what to do, not a trace.

Cells make the SDK calls themselves, so the SDK's own exceptions reach the cell: a wait
that ran out (`asyncio.wait_for(handle.result(), timeout=30)`), a workflow that failed, an
update its validator refused, a signal to a finished workflow. Their stacks are the SDK's
insides, nothing a learner can act on; their messages are often a gRPC status. This module
turns each into one line with the next step. The cell still counts as failed (Run All
stops there); only the display changes.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from temporalio.client import (
    RPCError,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.service import RPCStatusCode

from order_management.local import config, devserver
from order_management.local.connection import ServerUnavailable
from order_management.orders import OrderError
from order_management.progress import record as progress
from order_management.shared import InvalidOrder

_RED, _RESET = "\x1b[0;31m", "\x1b[0m"


class BriefError(Exception):
    """An error of the workshop's own whose message already says everything."""


BRIEF_ERRORS: tuple[type[BaseException], ...] = (
    BriefError,
    OrderError,
    InvalidOrder,
    ServerUnavailable,
    config.ConfigurationError,
    devserver.DevServerError,
    WorkflowAlreadyStartedError,
    RPCError,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    TimeoutError,
    asyncio.TimeoutError,
    SyntaxError,
    ModuleNotFoundError,
)
"""Errors a notebook shows as one line. A SyntaxError here is one raised while a cell runs
(a module it imports or reloads); a cell's own typo keeps IPython's display."""


def install_error_display(shell: Any) -> None:
    """Show `BRIEF_ERRORS` as one line, and a `NameError` with the likely cause (a cell run
    out of order). Idempotent."""
    shell.set_custom_exc((*BRIEF_ERRORS, NameError), _show_error)


def brief(error: BaseException) -> str:
    """The line the kernel shows for `error`: its type, then `one_line(error)`."""
    return f"{type(error).__name__}: {one_line(error)}"


def one_line(error: BaseException) -> str:
    """What the learner reads for `error`: what happened, and what to do next."""
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)) and not str(error):
        return _timeout_hint()
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        # What `asyncio.wait_for(handle.execute_update(...))` raises when its time runs out.
        return _timeout_hint()
    if isinstance(error, SyntaxError):
        return _syntax_hint(error)
    if isinstance(error, ModuleNotFoundError):
        return _missing_module_hint(error)
    if isinstance(error, WorkflowFailureError) and isinstance(error.cause, ActivityError):
        activity = error.cause
        return (
            f"the workflow failed: its activity {activity.activity_type} failed for good: "
            f"{_message(activity.cause)}"
        )
    if isinstance(error, WorkflowFailureError):
        return f"the workflow failed: {_message(error.cause)}"
    if isinstance(error, WorkflowUpdateFailedError):
        return f"the update was refused: {_message(error.cause)}"
    if isinstance(error, WorkflowQueryFailedError):
        return f"the query failed: {error.message}"
    if isinstance(error, WorkflowQueryRejectedError):
        return f"the query was rejected: the workflow's status is {error.status.name}"
    if isinstance(error, WorkflowAlreadyStartedError):
        return (
            f"{error.workflow_id} is still running, and an id runs one workflow at a "
            "time: let it end first (e.g. decide it), or start it with another id"
        )
    if isinstance(error, RPCError):
        return _rpc_hint(error)
    return str(error)


def _message(cause: BaseException | None) -> str:
    """A failure's own sentence (an ApplicationError's message, not its repr)."""
    if cause is None:
        return "no reason given"
    message = getattr(cause, "message", None) or str(cause) or type(cause).__name__
    return message


def _syntax_hint(error: SyntaxError) -> str:
    where = Path(error.filename or "?")
    if where.is_absolute() and where.is_relative_to(Path.cwd()):
        where = where.relative_to(Path.cwd())  # my_shop/workflow.py, as its cell names it
    code = f" in `{error.text.strip()}`" if error.text and error.text.strip() else ""
    return (
        f"{where}, line {error.lineno}: {error.msg}{code}. Fix it in the cell that writes "
        "that file, run that cell, then this one again"
    )


def _missing_module_hint(error: ModuleNotFoundError) -> str:
    # Most often a module a `%%writefile` cell above writes (07's my_shop/, 08's variants),
    # imported before that cell ran; else a package the workshop did not install.
    return (
        f"{error}: if a `%%writefile` cell above writes it, run the cells above this one "
        "first (Run > Run All Above Selected Cell); if it is a package, `make setup` "
        "installs the workshop's"
    )


def _workers_running() -> bool:
    """Whether a Temporal worker runs in this kernel: the kernel's own (`start_worker`) or
    one a cell started (`asyncio.create_task(worker.run())`, `async with Worker(...)`)."""
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no event loop runs: no worker either
        return False
    return any(
        getattr(task.get_coro(), "__qualname__", "").startswith("Worker.")
        for task in tasks
        if not task.done()
    )


def _timeout_hint() -> str:
    worker = (
        "is a worker polling the workflow's task queue? If one is, its log says what fails"
        if _workers_running()
        else "this kernel runs no worker: run `await start_worker(client)`, or the cell that "
        "starts your own `Worker(...)`"
    )
    return (
        "no answer before the timeout. A result comes only once the workflow ends (is it "
        f"waiting for a decision?); a query or an update needs a worker to answer "
        f"({worker}). The workflow's Web UI page shows where it is."
    )


def _rpc_hint(error: RPCError) -> str:
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:  # a call's rpc_timeout ran out
        return _timeout_hint()
    if error.status == RPCStatusCode.CANCELLED and "Timeout" in error.message:
        return _timeout_hint()  # a query no worker answered: the call timed out
    if error.status == RPCStatusCode.NOT_FOUND:
        if "completed" in error.message:
            return (
                "that workflow has already finished: it takes no more signals or updates "
                "(queries still answer). Start a new one to try again."
            )
        return f"no such workflow ({error.message}): check the id, or start it first"
    return f"Temporal refused the request: {error.message}"


def _show_error(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> None:
    progress.error_seen(f"{etype.__name__}: {one_line(value)}")
    if isinstance(value, NameError):  # the usual short trace, then the likely cause
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        print(
            f"Is `{value.name}` made by a cell above? Run the cells above this one first "
            "(Run > Run All Above Selected Cell), or check the spelling.",
            file=sys.stderr,
        )
        return
    shell._showtraceback(etype, value, [f"{_RED}{etype.__name__}{_RESET}: {one_line(value)}"])
