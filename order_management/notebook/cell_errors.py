"""How the kernel shows a learner's mistake: one line that says what to do, not a trace.

Cells make the SDK calls themselves, so the SDK's own exceptions reach the cell: a wait
that ran out (`asyncio.wait_for(handle.result(), timeout=30)`), a workflow that failed, an
update its validator refused, a signal to a finished workflow. Their stacks are the SDK's
insides, nothing a learner can act on; `sdk_errors.explain` gives the sentence instead, the
one the scripts print too. The workshop's own errors (`WorkshopError`) already carry theirs.
A learner's mistake in a `Worker(...)` call (an activity without `@activity.defn`, a task queue
another Worker holds, `await Worker(...)`) comes as a plain TypeError, ValueError, RuntimeError
or AttributeError (`WORKER_ERRORS`): only those `sdk_errors.is_worker_mistake` recognises
become one line, any other keeps its traceback.
So does a call written without `await` (`handle = client.start_workflow(...)`): the next line
fails on a coroutine object, and the line says which call needs the `await`.
The cell still counts as failed (Run All stops there); only the display changes.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from types import CoroutineType
from typing import Any

from order_management import sdk_internals
from order_management.progress import record as progress
from order_management.sdk_errors import (
    ANY_WORKER,
    EXPLAINED,
    FIX_IN_FILE,
    WORKER_ERRORS,
    explain,
    is_worker_mistake,
    shown_path,
)

_RED, _RESET = "\x1b[0;31m", "\x1b[0m"

ONE_LINE_ERRORS: tuple[type[BaseException], ...] = (
    *EXPLAINED,
    SyntaxError,
    ModuleNotFoundError,
)
"""Errors a notebook shows as one line: the workshop's own, and the SDK's that `explain`
knows. A SyntaxError here is one raised while a cell runs (a module it imports or reloads);
a cell's own typo keeps IPython's display."""


def install_error_display(shell: Any) -> None:
    """Show `ONE_LINE_ERRORS` as one line, and a `NameError` with the likely cause (a cell
    run out of order). Idempotent."""
    # WORKER_ERRORS holds AttributeError too: a call written without `await` is one of those.
    shell.set_custom_exc((*ONE_LINE_ERRORS, *WORKER_ERRORS, NameError), _show_error)


def brief(error: BaseException) -> str:
    """The line the kernel shows for `error`: its type, then `one_line(error)`."""
    return f"{type(error).__name__}: {one_line(error)}"


def one_line(error: BaseException) -> str:
    """What the learner reads for `error`: what happened, and what to do next."""
    if isinstance(error, SyntaxError):
        return _syntax_hint(error)
    if isinstance(error, ModuleNotFoundError):
        return _missing_module_hint(error)
    if (coroutine := _unawaited(error)) is not None:
        return _missing_await_hint(error, coroutine)
    return explain(error, _worker_hint())


def _unawaited(error: BaseException) -> CoroutineType[Any, Any, Any] | None:
    """The coroutine a cell used as if it were the call's result, or None: Python sets
    `AttributeError.obj` to the object whose attribute was missing."""
    found = getattr(error, "obj", None) if isinstance(error, AttributeError) else None
    return found if inspect.iscoroutine(found) else None


def _missing_await_hint(error: BaseException, coroutine: CoroutineType[Any, Any, Any]) -> str:
    if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
        coroutine.close()  # it never ran: closed, it adds no "never awaited" warning
    name = coroutine.__qualname__
    call = "the call that made it" if "<locals>" in name else f"`{name}(...)`"
    return f"{error}: {call} is async and needs `await` before it, then run the cell again"


def _syntax_hint(error: SyntaxError) -> str:
    where = shown_path(error.filename or "?")  # my_shop/workflow.py, as its cell names it
    code = f" in `{error.text.strip()}`" if error.text and error.text.strip() else ""
    return f"{where}, line {error.lineno}: {error.msg}{code}. {FIX_IN_FILE.capitalize()}"


def _missing_module_hint(error: ModuleNotFoundError) -> str:
    # Most often a module a `%%writefile` cell above writes (07's my_shop/, 08's variants),
    # imported before that cell ran; else a package the workshop did not install.
    return (
        f"{error}: if a `%%writefile` cell above writes it, run the cells above this one "
        "first (Run > Run All Above Selected Cell); if it is a package, `make setup` "
        "installs the workshop's"
    )


def _worker_hint() -> str:
    """Whether a Temporal worker runs in this kernel: the kernel's own (`start_worker`) or
    one a cell started (`asyncio.create_task(worker.run())`, `async with Worker(...)`)."""
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no event loop runs: no worker either
        tasks = set()
    if any(sdk_internals.is_worker_task(task) for task in tasks if not task.done()):
        return ANY_WORKER
    return (
        "this kernel runs no worker: run `await start_worker(client)`, or the cell that "
        "starts your own `Worker(...)`"
    )


def _show_error(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> None:
    known = isinstance(value, (*ONE_LINE_ERRORS, NameError)) or _unawaited(value) is not None
    if not known and not is_worker_mistake(value):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # not one we know: as is
        return
    progress.error_seen(f"{etype.__name__}: {one_line(value)}")
    if isinstance(value, NameError):  # the usual short trace, then the likely cause
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        print(
            f"Is `{value.name}` made by a cell above? Run the cells above this one first "
            "(Run > Run All Above Selected Cell), or check the spelling.",
            file=sys.stderr,
        )
        return
    line = f"{_RED}{etype.__name__}{_RESET}: {one_line(value)}"
    sdk_internals.show_one_line(shell, etype, value, line)
