"""The SDK's and IPython's insides that the workshop reads, each in this one place.

Temporal's Python SDK and IPython do not promise these; they are here because no public API
gives the same, and each one makes a learner's line shorter. The exact pin of `temporalio`
in pyproject.toml keeps them stable; `tests/test_sdk_internals.py` checks each against the
installed versions, so an upgrade that changes one fails there, loudly, not in a notebook.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from temporalio import activity, workflow

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
