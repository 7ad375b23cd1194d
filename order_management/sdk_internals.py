"""The SDK's, IPython's and ipykernel's insides that the workshop uses, each in this one place.

Temporal's Python SDK, IPython and ipykernel do not promise these; they are here because no
public API gives the same, and each one makes a learner's line shorter or a kernel's exit
clean. The exact pin of `temporalio` in pyproject.toml keeps them stable;
`tests/test_sdk_internals.py` checks each against the installed versions, so an upgrade that
changes one fails there, loudly, not in a notebook.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import dis
import linecache
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto
from pathlib import Path
from types import CodeType, FrameType, TracebackType
from typing import Any

import temporalio
import temporalio.workflow._definition
from temporalio import activity, workflow
from temporalio.bridge import worker as _bridge_worker
from temporalio.client import Client
from temporalio.worker import Worker, _activity, _workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

# The SDK's loggers mark the record of a failed workflow task with this private `extra`
# (temporalio/worker/_workflow_instance.py); the record's public fields do not say it.
_ERROR_IDENTIFIER = "__temporal_error_identifier"
WORKFLOW_TASK_FAILURE = "WorkflowTaskFailure"

# The Rust core reports errors (a nondeterminism error, a failure in its log fields) as
# Rust debug text, `Failure { message: "...", ... }`; the message is the part a human wants.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
_ESCAPED = re.compile(r"\\(.)")


def is_workflow_task_failure(record: logging.LogRecord) -> bool:
    """Whether `record` is the SDK's log line for a failed workflow task."""
    return getattr(record, _ERROR_IDENTIFIER, None) == WORKFLOW_TASK_FAILURE


def core_message(text: str) -> str | None:
    """The message inside the core's debug text, unescaped (a line break becomes a space);
    None if the text holds none."""
    found = _CORE_MESSAGE.search(text)
    return _ESCAPED.sub(_unescape, found[1]) if found else None


def _unescape(escape: re.Match[str]) -> str:
    return " " if escape[1] in "nrt" else escape[1]


# How the sandbox's refusal of a call begins (RestrictedWorkflowAccessError's default message),
# as a failed workflow task's message carries it to the history.
_SANDBOX_REFUSAL = RestrictedWorkflowAccessError.default_message("\0").split("\0")[0]


def is_sandbox_refusal(message: str) -> bool:
    """Whether a failed workflow task's `message` is the sandbox refusing a call."""
    return _SANDBOX_REFUSAL in message


CANCEL_OF_ENDED_ATTEMPT = "Cannot find activity to cancel"
"""The start of the UserWarning a worker gives when the server cancels an activity attempt
that has already ended on it (a cancel and the attempt's end crossing)."""


def is_worker_task(task: asyncio.Task[Any]) -> bool:
    """Whether `task` runs a Temporal worker (`Worker.run`, started by any code: the kernel's
    own worker or a learner's `asyncio.create_task(worker.run())`). A task does not say what
    it runs except through its coroutine's `__qualname__`."""
    return getattr(task.get_coro(), "__qualname__", "").startswith("Worker.")


def show_one_line(shell: Any, etype: type, value: BaseException, line: str) -> None:
    """Show `line` where IPython would show the traceback of `value`. `_showtraceback` is
    the one method that both IPython and ipykernel's ZMQ shell use to send an error (the
    kernel's `error` message too, so the cell still counts as failed and Run All stops);
    the public `showtraceback` would build the whole traceback first."""
    shell._showtraceback(etype, value, [line])


# What `@activity.defn` and `@workflow.defn` recorded on a learner's function or class (its
# registered name, its signal and query handlers): the SDK keeps it in private `_Definition`
# classes (temporalio/activity.py, temporalio/workflow.py), and no public call returns it.
# The exercise checks read it to name a missing decorator or handler before any worker runs.
def activity_name(function: Any) -> str | None:
    """The name `function` is registered under as an activity, or None when it is none."""
    definition = activity._Definition.from_callable(function)
    return None if definition is None else definition.name


def has_run(worker: Worker) -> bool:
    """Whether `worker` has been run already (a Worker runs once): the SDK's private flag,
    set by `run()`; no public attribute says it."""
    return bool(worker._started)


def workflow_handlers(cls: type) -> tuple[dict[str | None, Any], dict[str | None, Any]] | None:
    """The signal and query handlers of the workflow class `cls`, or None when it is none."""
    definition = workflow._Definition.from_class(cls)
    if definition is None:
        return None
    return dict(definition.signals), dict(definition.queries)


def executed_cell_id(result: Any) -> str | None:
    """The id of the notebook cell that IPython's `ExecutionResult` `result` (what a
    `post_run_cell` callback gets) reports on; None if the front end sent none or the run was
    cancelled. JupyterLab sends each cell's `execute_request` with `metadata.cellId`;
    ipykernel passes it to `run_cell(cell_id=...)`, which IPython keeps on `result.info`
    (`ExecutionInfo.cell_id`). None of the three documents it as a promise."""
    cell_id = getattr(getattr(result, "info", None), "cell_id", None)
    return cell_id if isinstance(cell_id, str) else None


def before_kernel_shutdown(shell: Any, stop: Callable[[], None]) -> bool:
    """Call `stop` each time Jupyter asks this kernel to shut down (Shut Down, Restart, the
    end of an nbclient run), before the kernel answers and ends; False outside ipykernel.
    ipykernel offers no hook for it: its `shutdown_request` calls the kernel's `do_shutdown`
    (kernelbase.py), on the control thread, while the cells' event loop goes on running."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "do_shutdown"):
        return False
    if getattr(kernel.do_shutdown, "_stops_first", None) is not stop:
        answer = kernel.do_shutdown

        def do_shutdown(restart: bool) -> Any:
            with contextlib.suppress(Exception):  # the kernel shuts down, whatever `stop` met
                stop()
            return answer(restart)

        do_shutdown._stops_first = stop  # type: ignore[attr-defined]
        kernel.do_shutdown = do_shutdown
    return True


# -- A learner's mistake in `Worker(...)`, read from the error the SDK raised ------------------
# The SDK raises plain TypeError, ValueError and RuntimeError when a Worker's arguments or the
# code it registers are wrong; which mistake it was shows only in the SDK function that raised
# it (its code object, its local variables) and in the message. A mistake counts only when the
# code that made the call is the learner's (a cell, a `%%writefile` module): raised on behalf of
# the workshop's own code, the same error is a bug, and keeps its traceback.


class WorkerMistakeKind(Enum):
    NOT_AN_ACTIVITY = auto()  # activities=[...] holds a function without @activity.defn
    NOT_A_WORKFLOW = auto()  # workflows=[...] holds a class without @workflow.defn, or no class
    WORKFLOW_DEFINITION = auto()  # @workflow.defn/@workflow.run refused the class (no run, ...)
    SYNC_ACTIVITY = auto()  # a plain-def activity and no activity_executor
    NOT_A_LIST = auto()  # workflows=ConfirmationWorkflow, without the brackets
    NOTHING_REGISTERED = auto()  # neither workflows nor activities
    QUEUE_TAKEN = auto()  # another Worker on the same client has this task queue
    QUEUE_NOT_STR = auto()  # task_queue=42, task_queue=confirmation_queue (not called)
    SANDBOX_REFUSED = auto()  # the sandbox could not load the workflow's module
    UNKNOWN_ARGUMENT = auto()  # Worker(..., workflow=[...]): Python's own TypeError
    MISSING_ARGUMENT = auto()  # Worker(client): no task_queue
    POSITIONAL_ARGUMENT = auto()  # Worker(client, "queue")
    DUPLICATE_NAME = auto()  # activities=[a, a], or two workflows with one name
    AWAITED = auto()  # await Worker(...): Python's own TypeError, the SDK never sees it
    PLAIN_WITH = auto()  # with Worker(...): Python's own TypeError too
    NOT_A_CLIENT = auto()  # Worker("localhost:7233", ...), Worker(env, ...), Worker(Client, ...)


@dataclass(frozen=True)
class WorkerMistake:
    """What was wrong, and where the learner wrote it.

    `subject` is what the mistake is about (the function or class registered, the queue, the
    argument's name), `detail` the SDK's own words where they say more; `module` and `file`,
    `line` are where the learner's code made the call or defined the class (`module`
    "__main__": a notebook cell)."""

    kind: WorkerMistakeKind
    subject: Any = None
    detail: str = ""
    module: str = "__main__"
    file: str = ""
    line: int = 0


_SDK_DIR = Path(temporalio.__file__).parent
_WORKSHOP_DIR = Path(__file__).parent
_WORKFLOW_DEFINITIONS = temporalio.workflow._definition.__file__
_SYNC_ACTIVITY = re.compile(r"is not async so an activity_executor must be present")
_NOT_ITERABLE = re.compile(r"object is not iterable")
_NOTHING = re.compile(r"^At least one activity, Nexus service, or workflow must be specified")
_QUEUE_TAKEN = re.compile(r"Registration of multiple workers .* same namespace, task queue")
_QUEUE_FIELD = re.compile(r"WorkerConfig\.task_queue")
_SANDBOX = re.compile(r"^Failed validating workflow ")
_DUPLICATE = re.compile(r"^More than one (?:activity|workflow) named ")
# Python's own words when a call does not match a signature (`Worker.__init__() got ...`).
_CALL = re.compile(
    rf"^{re.escape(Worker.__init__.__qualname__)}\(\) (?:"
    r"got an unexpected keyword argument '(?P<unknown>\w+)'"
    r"|missing \d+ required (?:keyword-only |positional )?arguments?: (?P<missing>.+)"
    r"|(?P<positional>takes \d+ positional arguments? but .* given))"
)


def worker_mistake(error: BaseException) -> WorkerMistake | None:
    """The learner's mistake that `error` reports, or None when it reports none (any other
    error, or one raised on behalf of the workshop's own code)."""
    frames = _frames(error)
    learner = next((f for f in reversed(frames) if not _under(f[0], _SDK_DIR)), None)
    if not frames or learner is None or _under(learner[0], _WORKSHOP_DIR):
        return None
    try:
        found = _mistake(error, frames[-1][0])
    except (KeyError, AttributeError):  # not the SDK frame we know: not a mistake we know
        return None
    if found is None:
        return None
    frame, line = learner
    where = {
        "module": frame.f_globals.get("__name__", "__main__"),
        "file": frame.f_code.co_filename,
        "line": line,
    }
    return WorkerMistake(found[0], found[1], found[2], **where)


def _mistake(
    error: BaseException, raised_in: FrameType
) -> tuple[WorkerMistakeKind, Any, str] | None:
    code, local, text = raised_in.f_code, raised_in.f_locals, str(error)
    kind = WorkerMistakeKind
    if isinstance(error, TypeError) and code is _code(activity._Definition.must_from_callable):
        return kind.NOT_AN_ACTIVITY, local["fn"], text
    if isinstance(error, ValueError) and code is _code(workflow._Definition.must_from_class):
        return kind.NOT_A_WORKFLOW, local["cls"], text
    if isinstance(error, ValueError) and code.co_filename == _WORKFLOW_DEFINITIONS:
        return kind.WORKFLOW_DEFINITION, None, text  # the SDK lists what is wrong
    if code is _code(_activity._ActivityWorker.__init__):
        if isinstance(error, ValueError) and _SYNC_ACTIVITY.search(text):
            return kind.SYNC_ACTIVITY, local["activity"], text
        if isinstance(error, TypeError) and _NOT_ITERABLE.search(text):
            return kind.NOT_A_LIST, ("activities", local["activities"]), text
        if isinstance(error, ValueError) and _DUPLICATE.search(text):
            name = local["defn"].name  # the SDK keeps the first one registered by its name
            first = local["self"]._activities[name].fn
            return kind.DUPLICATE_NAME, ("activity", name, first, local["activity"]), text
    if code is _code(_workflow._WorkflowWorker.__init__):
        if isinstance(error, TypeError) and _NOT_ITERABLE.search(text):
            return kind.NOT_A_LIST, ("workflows", local["workflows"]), text
        if isinstance(error, RuntimeError) and _SANDBOX.search(text) and error.__cause__:
            return kind.SANDBOX_REFUSED, (local["workflow"], error.__cause__), text
        if isinstance(error, ValueError) and _DUPLICATE.search(text):
            name = local["defn"].name
            first = local["self"]._workflows[name].cls
            return kind.DUPLICATE_NAME, ("workflow", name, first, local["workflow"]), text
    if isinstance(error, (AttributeError, TypeError)) and code is _code(Worker.__init__):
        # The SDK's first use of its client argument, `client.config()`, fails on anything else.
        client = local["client"]
        return (kind.NOT_A_CLIENT, client, text) if not isinstance(client, Client) else None
    if isinstance(error, ValueError) and code is _code(Worker._init_from_config):
        return (kind.NOTHING_REGISTERED, None, text) if _NOTHING.search(text) else None
    if code is _code(_bridge_worker.Worker.create):
        if isinstance(error, RuntimeError) and _QUEUE_TAKEN.search(text):
            return kind.QUEUE_TAKEN, local["config"].task_queue, text
        if isinstance(error, TypeError) and _QUEUE_FIELD.search(text):
            return kind.QUEUE_NOT_STR, local["config"].task_queue, text
    refused = _refused_by_python(error) if isinstance(error, TypeError) else None
    if refused is not None:
        return refused, None, text
    call = _CALL.match(text) if isinstance(error, TypeError) else None
    if call and not _under(raised_in, _SDK_DIR):  # raised where the learner called Worker(...)
        if call["unknown"]:
            return kind.UNKNOWN_ARGUMENT, call["unknown"], text
        if call["missing"]:
            return kind.MISSING_ARGUMENT, call["missing"], text
        return kind.POSITIONAL_ARGUMENT, None, text
    return None


# The instructions where Python refuses a Worker a cell asked for the wrong thing: a plain
# `await` (GET_AWAITABLE's argument 0; 1 and 2 are `async with`'s own), and a plain `with`.
_REFUSED_BY_PYTHON = {
    ("GET_AWAITABLE", 0): WorkerMistakeKind.AWAITED,
    ("BEFORE_WITH", None): WorkerMistakeKind.PLAIN_WITH,
}


def _refused_by_python(error: TypeError) -> WorkerMistakeKind | None:
    """The mistake when `error` is Python refusing to await a temporalio Worker (`await
    Worker(...)`, `await worker`) or to enter it with a plain `with`; else None. The message
    names only the type, and a learner's own class may be called Worker too; so this reads
    the code itself: the instruction that raised (`tb_lasti`), its source span (PEP 657
    positions), and the names there, looked up in the frame that raised."""
    tb = _last(error.__traceback__)
    if tb is None:
        return None
    frame, code = tb.tb_frame, tb.tb_frame.f_code
    raised = next((i for i in dis.get_instructions(code) if i.offset == tb.tb_lasti), None)
    kind = _REFUSED_BY_PYTHON.get((raised.opname, raised.arg)) if raised else None
    if raised is None or kind is None:
        return None
    # Python 3.10's instructions have no positions (and other names): the traceback stays.
    written = _source_span(code.co_filename, frame, getattr(raised, "positions", None))
    if isinstance(written, ast.Await):
        used = [written.value]
    elif isinstance(written, ast.With):
        used = [item.context_expr for item in written.items]
    else:
        return None
    return kind if any(_is_worker(expression, frame) for expression in used) else None


def _is_worker(expression: ast.expr, frame: FrameType) -> bool:
    """Whether `expression` builds a temporalio Worker (`Worker(...)`) or names one."""
    if isinstance(expression, ast.Call):
        built = _look_up(expression.func, frame)
        return isinstance(built, type) and issubclass(built, Worker)
    return isinstance(_look_up(expression, frame), Worker)


def _last(tb: TracebackType | None) -> TracebackType | None:
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _source_span(file: str, frame: FrameType, where: Any) -> ast.AST | None:
    """The expression or statement at `where` (an instruction's positions) in `file`, parsed;
    None when the source is not at hand. IPython keeps each cell's source in `linecache`
    under the cell's file name, as it does to show a traceback's lines."""
    if where is None or None in (
        where.lineno,
        where.end_lineno,
        where.col_offset,
        where.end_col_offset,
    ):
        return None
    lines = linecache.getlines(file, frame.f_globals)[where.lineno - 1 : where.end_lineno]
    if not lines:
        return None
    # The columns count UTF-8 bytes, not characters.
    encoded = [line.encode() for line in lines]
    encoded[-1] = encoded[-1][: where.end_col_offset]
    encoded[0] = encoded[0][where.col_offset :]
    written = b"".join(encoded).decode(errors="replace")
    try:
        return ast.parse(written.strip(), mode="eval").body
    except SyntaxError:  # a statement (a `with` and its block), not an expression
        pass
    try:
        return ast.parse(written).body[0]
    except (SyntaxError, IndexError):
        return None


def _look_up(expression: ast.expr, frame: FrameType) -> Any:
    """The value of a dotted name (`Worker`, `temporalio.worker.Worker`) in `frame`; None for
    any other expression: only names and attributes are read, nothing is called."""
    if isinstance(expression, ast.Attribute):
        return getattr(_look_up(expression.value, frame), expression.attr, None)
    if isinstance(expression, ast.Name):
        names = {**frame.f_builtins, **frame.f_globals, **frame.f_locals}
        return names.get(expression.id)
    return None


def _frames(error: BaseException) -> list[tuple[FrameType, int]]:
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return frames


def _under(frame: FrameType, folder: Path) -> bool:
    return Path(frame.f_code.co_filename).is_relative_to(folder)


def _code(function: Any) -> CodeType:
    return function.__code__
