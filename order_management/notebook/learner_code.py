"""The learner's own workflow code in the deep dives (06-08): changed, shown and checked.

The cells write the learner's modules (`%%writefile`), build the `Worker`, run the
`Replayer` and start the orders themselves; these helpers only edit, display and check:

- `change_module()`: a change to a learner's module, made from a cell and shown as the change
  (a diff), not as the whole file again;
- `mistake_expected()`: a cell that makes a mistake on purpose prints the one line the kernel
  shows for it, instead of failing (so Run All carries on past the demonstration);
- `replay_line()`: a `Replayer` result in one line, naming the event where the code and the
  history part ways;
- `side_by_side()`: what several orders did, one column each;
- `answers_of()`, `result_or_reason()`: an exercise's code run for its check, a mistake turned
  into a short answer the check's one line shows (never a hang or a traceback).
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import re
import sys
import textwrap
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.worker import WorkflowReplayResult

from order_management.errors import WorkshopError
from order_management.history import history_frame, replay_failure_reason
from order_management.history import replay_line as replay_result_line
from order_management.notebook.cell_errors import brief, one_line

_QUIET_EVENTS = (
    "WorkflowTaskScheduled",
    "WorkflowTaskStarted",
    "WorkflowTaskCompleted",
    "ActivityTaskStarted",
    "ActivityTaskCompleted",
)
"""Events `side_by_side` leaves out: the bookkeeping between two decisions."""
LABEL_WIDTH = 70
ANSWER_WIDTH = 120
"""An error a learner's function raised is cut here in the check's one line."""
RESULT_POLL_SECONDS = 0.5
"""How often `result_or_reason` looks for a failed workflow task while it waits."""
DIFF_CONTEXT_LINES = 2
"""Unchanged lines shown around each change: enough to see where it goes."""


class ModuleChangeError(WorkshopError):
    """A change that cannot be made to a learner's module: the lines to replace are not there."""


# -- a change to a learner's module, shown as the change ------------------------------------


class CodeChange:
    """A unified diff of one module: highlighted in a notebook, plain text elsewhere."""

    def __init__(self, diff: str) -> None:
        self.diff = diff

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import DiffLexer

        return highlight(self.diff, DiffLexer(), HtmlFormatter(noclasses=True, style="default"))

    def __repr__(self) -> str:
        return self.diff


def change_module(
    path: str | Path, changes: Mapping[str, str], save_as: str | Path | None = None
) -> Path:
    """Replace lines of the module at `path`, show the change as a diff, and return the file
    written (`save_as`, or `path` itself).

    Each key of `changes` is one or more whole lines of the module, each value the lines that
    replace them. Both are written without their indentation: the lines are found whatever
    their indentation, and the new ones get the indentation of the first old one. A change
    already made (its new lines there, its old ones gone) is left as it is, so the cell can
    run again. Raises `ModuleChangeError` (one line) if some old lines are not there.
    """
    source = Path(path)
    if not source.exists():
        raise ModuleChangeError(f"{source} does not exist yet: run the cell that writes it first")
    before = source.read_text()
    lines = before.splitlines()
    for old, new in changes.items():
        lines = _replace_lines(lines, _lines_of(old), _lines_of(new), source)
    after = "\n".join(lines) + "\n"
    target = Path(save_as) if save_as is not None else source
    _refuse_if_invalid(after, target)
    target.write_text(after)
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(source),
            tofile=str(target),
            n=DIFF_CONTEXT_LINES,
        )
    )
    _show(CodeChange(diff) if diff else f"{target}: no change (already made)")
    return target


def _refuse_if_invalid(source: str, target: Path) -> None:
    """A change that would leave the module unreadable is refused: the file stays as it was."""
    try:
        # No file name: given one, Python may quote the line from the file on disk (old text).
        compile(source, "<changed module>", "exec")
    except SyntaxError as error:
        code = f" in `{error.text.strip()}`" if error.text and error.text.strip() else ""
        raise ModuleChangeError(
            f"this change would break {target}, line {error.lineno}: {error.msg}{code}; "
            "fix the new lines, then run this cell again (the file is unchanged)"
        ) from None


def _lines_of(text: str) -> list[str]:
    return textwrap.dedent(text).strip("\n").splitlines()


def _replace_lines(lines: list[str], old: list[str], new: list[str], path: Path) -> list[str]:
    if _find_lines(lines, new):
        return lines  # made already: this cell ran before (the new lines may hold the old)
    at = _find_lines(lines, old)
    if len(at) == 1:
        indent = re.match(r"\s*", lines[at[0]])[0]  # type: ignore[index]
        indented = [indent + line if line.strip() else "" for line in new]
        return lines[: at[0]] + indented + lines[at[0] + len(old) :]
    first = old[0].strip() if old else ""
    problem = f"has {len(at)} places with" if at else "has no line"
    raise ModuleChangeError(
        f"{path} {problem} `{first}`: run the cell that writes it, then this one again"
    )


def _find_lines(lines: list[str], wanted: list[str]) -> list[int]:
    """Where `wanted` starts in `lines`, comparing lines without their indentation."""
    stripped = [line.strip() for line in lines]
    target = [line.strip() for line in wanted]
    span = len(target)
    return [k for k in range(len(lines) - span + 1) if span and stripped[k : k + span] == target]


def _show(value: Any) -> None:
    try:
        from IPython.display import display
    except ImportError:  # outside a kernel
        print(value)
    else:
        display(value)


# -- an exercise's code, run for its check ---------------------------------------------------


async def answers_of(function: Callable[[Any], Any], cases: Mapping[str, Any]) -> dict[str, Any]:
    """`function` (a learner's `async def`) applied to each case: its answer per case, or,
    for a likely mistake, a short description the check's one line shows."""
    return {name: await _answer(function, case) for name, case in cases.items()}


async def _answer(function: Callable[[Any], Any], case: Any) -> Any:
    try:
        value = function(case)
        if inspect.isawaitable(value):
            value = await value
    except Exception as error:  # the learner's code raised: what it raised is the answer
        return f"raised {type(error).__name__} ({replay_failure_reason(error)[:ANSWER_WIDTH]})"
    if inspect.isawaitable(value):
        _close(value)
        return "a coroutine: await it inside your function"
    if isinstance(value, WorkflowReplayResult):
        return "a WorkflowReplayResult: return whether its replay_failure is None"
    if isinstance(value, BaseException):
        return f"a {type(value).__name__} object: return True or False"
    return value


def _close(value: Awaitable[Any]) -> None:
    if inspect.iscoroutine(value):
        value.close()  # never awaited: no "was never awaited" warning


async def result_or_reason(handle: WorkflowHandle[Any, Any], timeout: float) -> Any:
    """The workflow's result within `timeout` seconds; else why not, in one line: its failure,
    or its failed workflow task's error (as soon as one is recorded: Temporal would retry
    that task for ever), the workflow then terminated.

    What an exercise's check shows for a learner's workflow that cannot finish: a sandbox
    rule broken, a result that is no JSON, a child never awaited.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    result = asyncio.ensure_future(handle.result())
    try:
        while loop.time() < deadline:
            done, _ = await asyncio.wait({result}, timeout=min(RESULT_POLL_SECONDS, timeout))
            if done:
                return result.result()
            failed = await _failed_workflow_task(handle)
            if failed:
                await handle.terminate(reason="the exercise's check stopped it")
                return f"its workflow task failed: {failed}"
    except (TypeError, ValueError) as error:  # the client could not read the result
        return f"its result is not the type its run method declares: {error}"
    except Exception as error:  # the workflow failed: the kernel's own line for it
        return one_line(error)
    finally:
        result.cancel()
    await handle.terminate(reason="the exercise's check gave up on it")
    return f"no result within {timeout:g} s (is it waiting for something?)"


async def _failed_workflow_task(handle: WorkflowHandle[Any, Any]) -> str | None:
    frame = history_frame(await handle.fetch_history())
    failed = frame[frame["event_type"] == "WorkflowTaskFailed"]
    return None if failed.empty else str(failed.iloc[-1]["details"])


# -- mistakes and replays, shown in one line ---------------------------------------------------


@contextmanager
def mistake_expected() -> Iterator[None]:
    """Run a block that is meant to fail and print the one line the kernel would show for
    its error (`cell_errors.brief`), so the cell does not fail. Says so if nothing failed."""
    try:
        yield
    except Exception as error:  # any mistake: the kernel's own line for it, or its message
        print(f"The mistake, as the kernel shows it: {brief(error)}", file=sys.stderr)
    else:
        print("No mistake this time: the block ran without an error.")


def replay_line(history: WorkflowHistory, result: WorkflowReplayResult) -> str:
    """One line for a `Replayer` run over `history`: `history.replay_line`, the one renderer."""
    return replay_result_line(result)


def side_by_side(histories: Mapping[str, WorkflowHistory]) -> pd.DataFrame:
    """What each order did, one column per order, one decision or message per row: the
    activities it scheduled, the markers and signals recorded, failed workflow tasks and how
    it ended (the bookkeeping events in between left out)."""
    columns = {}
    for name, history in histories.items():
        frame = history_frame(history)
        events = frame[~frame["event_type"].isin(_QUIET_EVENTS)]
        columns[name] = pd.Series([_label(row) for row in events.itertuples()], dtype=str)
    return pd.DataFrame(columns).fillna("")


def _label(event: Any) -> str:
    what = event.activity if isinstance(event.activity, str) else event.details
    label = f"{event.event_type}: {what}" if what else event.event_type
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"
