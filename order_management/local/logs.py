"""Worker logs, one readable line each, in a worker's terminal or a notebook cell.

Left alone, a worker reports a failed workflow task as a Python traceback of dozens of lines,
again at every retry, and Temporal's Rust core writes its own warnings straight to the
terminal, with colour codes. `install()` (run by `connection.connect()`) sends both through
`one_line(record)`, which says who, what and where to look:

    OrderWorkflow order-workflow-X: workflow task failed: the sandbox refused
    datetime.datetime.now (at workflow.py:120 in run); workflow code must replay the same way
    every time: use workflow.now() instead (and workflow.sleep() to wait). The workflow waits
    and Temporal retries the task: see the pending workflow task in the Web UI: http://...

(one line on screen). Temporal's Python SDK reports only the first failure of a workflow
task to the server, which retries it at once; each later attempt is left to time out after the
workflow task timeout (10 s unless the start sets one, longer from the 4th attempt). Each
attempt that fails in Python code logs its line again: a broken workflow shows about five
lines in its first minute, fewer after (a nondeterminism error, reported by the Rust core,
shows on the first attempt only). A repeat within `REPEAT_WINDOW_SECONDS` (the immediate
retry) is dropped.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from order_management.local import config
from order_management.sdk_internals import core_message, is_workflow_task_failure

SDK_LOGGER = logging.getLogger("temporalio")
CORE_LOGGER = logging.getLogger("temporalio.core")
"""Where the Rust core's warnings arrive once `install()` forwards them."""
MAX_LINE = 600
REPEAT_WINDOW_SECONDS = 5.0

_WAITING = (
    "The workflow waits and Temporal retries the task: see the pending workflow task in the Web UI"
)
_NONDETERMINISM_HINT = (
    "the workflow code changed in a way this workflow's history does not match: guard the "
    "change with workflow.patched(...), or let the workflows already running finish on the "
    "old code"
)
# What the sandbox refused (how its name starts) -> what to use instead.
_INSTEAD = (
    (("datetime", "time."), "use workflow.now() instead (and workflow.sleep() to wait)"),
    (("random",), "use workflow.random() instead"),
    (("uuid",), "use workflow.uuid4() instead"),
)
_IN_AN_ACTIVITY = "do it in an activity (files, network and other I/O belong there)"
_INFO_SUFFIX = re.compile(r" \(\{.*\}\)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NO_WEB_UI = "(no Web UI address configured)"


def one_line(record: logging.LogRecord) -> str:
    """The record as one line of text: no traceback, no colour codes, at most MAX_LINE."""
    workflow = getattr(record, "temporal_workflow", None)
    activity = getattr(record, "temporal_activity", None)
    if hasattr(record, "temporal_log"):
        text = _core_line(record)
    elif workflow:
        text = _workflow_line(record, workflow)
    elif activity:
        text = (
            f"{activity['activity_type']} (activity of {activity['workflow_type']} "
            f"{activity['workflow_id']}, attempt {activity['attempt']}): "
            f"{_message(record, activity)}"
        )
    else:
        text = f"Temporal: {_message(record)}"
    text = " ".join(_ANSI.sub("", text).split())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


class OneLineFormatter(logging.Formatter):
    """A logging formatter that writes `one_line(record)`."""

    def format(self, record: logging.LogRecord) -> str:
        return one_line(record)


def install() -> None:
    """Show every Temporal log record of this process as one line on stderr (a notebook
    cell's output, in a kernel), the Rust core's warnings included. Run it before the first
    client connects; running it again changes nothing."""
    if any(isinstance(handler, _OneLineHandler) for handler in SDK_LOGGER.handlers):
        return
    SDK_LOGGER.addHandler(_OneLineHandler())
    # Otherwise a handler on the root logger (basicConfig, pytest) prints tracebacks too.
    SDK_LOGGER.propagate = False
    forwarding = LogForwardingConfig(
        logger=CORE_LOGGER, prepend_target_on_message=False, append_log_fields_to_message=False
    )
    Runtime.set_default(
        Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=forwarding,
                )
            )
        ),
        error_if_already_set=False,
    )


class _OneLineHandler(logging.Handler):
    """Writes `one_line` to whatever sys.stderr is at the time (a kernel swaps it), leaving
    out records that only repeat another line."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(OneLineFormatter())
        self._last_shown: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if _repeats_another_record(record):
            return
        try:
            line = self.format(record)
            now = time.monotonic()
            # Forget lines shown long ago, so that a worker running for days keeps no list.
            self._last_shown = {
                shown: at
                for shown, at in self._last_shown.items()
                if now - at < REPEAT_WINDOW_SECONDS
            }
            if line in self._last_shown:
                return
            self._last_shown[line] = now
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def _repeats_another_record(record: logging.LogRecord) -> bool:
    # The sandbox warns before it raises; the failed task's line says the same, with the
    # workflow's name. The core's "Failing workflow task" repeats the Python line of the same
    # failure, except for a nondeterminism error, which only the core sees.
    if record.name.startswith("temporalio.worker.workflow_sandbox"):
        return True
    log = getattr(record, "temporal_log", None)
    return (
        log is not None
        and record.getMessage() == "Failing workflow task"
        and "Nondeterminism" not in str(log.fields.get("failure", ""))
    )


def _workflow_line(record: logging.LogRecord, workflow: Mapping[str, Any]) -> str:
    who = f"{workflow['workflow_type']} {workflow['workflow_id']}"
    if is_workflow_task_failure(record) and record.exc_info and record.exc_info[1]:
        error = record.exc_info[1]
        where = _where(record.exc_info[2])
        if isinstance(error, RestrictedWorkflowAccessError):
            refused = error.qualified_name.removeprefix("__builtins__.")
            what = (
                f"the sandbox refused {refused.removesuffix('.__call__')}{where}; workflow "
                f"code must replay the same way every time: {_instead(refused)}"
            )
        else:
            what = f"{_exception(error)}{where}"
        return f"{who}: workflow task failed: {what}. {_WAITING}: {_workflow_url(workflow)}"
    return f"{who}: {_message(record, workflow)}"


def _core_line(record: logging.LogRecord) -> str:
    fields = record.temporal_log.fields  # type: ignore[attr-defined]
    failure = str(fields.get("failure", ""))
    if "Nondeterminism" in failure:
        run_id = fields.get("run_id", "?")
        return (
            f"Workflow run {run_id}: workflow task failed: {_core_text(failure)}; "
            f"{_NONDETERMINISM_HINT}. {_WAITING}: {_run_url(run_id)}"
        )
    details = "; ".join(f"{key}: {_core_text(str(value))}" for key, value in fields.items())
    return f"Temporal worker: {record.getMessage()}" + (f" ({details})" if details else "")


def _core_text(text: str) -> str:
    """The message inside a Rust debug text (an error, a failure), or the text itself."""
    return core_message(text) or text


def _message(record: logging.LogRecord, info: Mapping[str, Any] | None = None) -> str:
    """The record's message without the info the SDK's loggers append, plus its error."""
    message = record.getMessage()
    if info is not None:
        message = _INFO_SUFFIX.sub("", message)
    if record.exc_info and record.exc_info[1]:
        message += f": {_exception(record.exc_info[1])}{_where(record.exc_info[2])}"
    return message


def _exception(error: BaseException) -> str:
    """ "KeyError: 'x'", with the error that caused it, if any (the SDK wraps some)."""
    text = str(error).strip()
    shown = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"{shown} ({_exception(error.__cause__)})" if error.__cause__ else shown


def _where(tb: Any) -> str:
    """ " (at file.py:12 in run)": the innermost frame outside the Temporal SDK."""
    frames = [
        frame
        for frame in traceback.extract_tb(tb)
        if "temporalio" not in Path(frame.filename).parts
    ]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {Path(frame.filename).name}:{frame.lineno} in {frame.name})"


def _instead(qualified_name: str) -> str:
    return next(
        (advice for prefixes, advice in _INSTEAD if qualified_name.startswith(prefixes)),
        _IN_AN_ACTIVITY,
    )


def _workflow_url(workflow: Mapping[str, Any]) -> str:
    settings = _settings()
    if settings is None:
        return _NO_WEB_UI
    return dataclasses.replace(settings, namespace=workflow["namespace"]).workflow_url(
        workflow["workflow_id"]
    )


def _run_url(run_id: str) -> str:
    """The Web UI's workflow list, filtered to one run (the core names no workflow id)."""
    settings = _settings()
    if settings is None:
        return _NO_WEB_UI
    query = quote(f'RunId="{run_id}"')
    return f"{settings.ui_url}/namespaces/{quote(settings.namespace)}/workflows?query={query}"


def _settings() -> config.TemporalSettings | None:
    try:
        return config.temporal_settings()
    except config.ConfigurationError:  # a log line must never raise
        return None
