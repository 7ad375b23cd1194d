"""The workshop's errors have one base class, so the cell display (and a script) shows each
as one line: a new error class cannot slip through to a full traceback."""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import time
import uuid
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

import order_management
from order_management.deadline import Deadline
from order_management.errors import WorkshopError
from order_management.notebook.cell_errors import (
    ONE_LINE_ERRORS,
    brief,
    install_error_display,
    one_line,
)
from order_management.sdk_errors import explain
from tests.helpers.notebooks import ANSI
from tests.helpers.worker_mistakes import (
    MISTAKES,
    MODULES,
    cell_namespace,
    run_cell,
    write_modules,
)

PACKAGE = Path(order_management.__file__).parent
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def _bases(node: ast.ClassDef) -> list[str]:
    return [
        base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        for base in node.bases
    ]


def _classes() -> dict[str, tuple[Path, list[str]]]:
    """Every class of the package (read from the source: some modules need the room's extra
    dependencies to import), by name, with its file and its bases' names."""
    found: dict[str, tuple[Path, list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                found[node.name] = (path.relative_to(PACKAGE), _bases(node))
    return found


def _is_exception(name: str, classes: dict[str, tuple[Path, list[str]]]) -> bool:
    if name in BUILTIN_EXCEPTIONS or name.endswith(("Error", "Exception")):
        return True
    return name in classes and any(_is_exception(base, classes) for base in classes[name][1])


def _derives_from_workshop_error(name: str, classes: dict[str, tuple[Path, list[str]]]) -> bool:
    if name == "WorkshopError":
        return True
    return name in classes and any(
        _derives_from_workshop_error(base, classes) for base in classes[name][1]
    )


def test_every_exception_class_of_the_package_is_a_workshop_error() -> None:
    classes = _classes()
    exceptions = {
        name: path
        for name, (path, bases) in classes.items()
        if any(_is_exception(base, classes) for base in bases)
        # a private class never leaves its module (shared._NotThat, a parser's signal)
        and not name.startswith("_")
    }
    assert len(exceptions) >= 15, exceptions  # the walk found the package's errors
    strays = {
        name: str(path)
        for name, path in exceptions.items()
        if name != "WorkshopError" and not _derives_from_workshop_error(name, classes)
    }
    assert strays == {}


def test_the_cell_display_shows_any_workshop_error_as_its_one_line() -> None:
    class BrandNew(WorkshopError):
        """An error class nobody listed anywhere."""

    assert issubclass(BrandNew, ONE_LINE_ERRORS)
    assert brief(BrandNew("the order is gone: place it again")) == (
        "BrandNew: the order is gone: place it again"
    )


def test_scripts_and_cells_say_the_same_sentence_for_an_sdk_error() -> None:
    finished = RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
    sentence = explain(finished)
    assert sentence.startswith("that workflow has already finished: it takes no more signals")
    assert one_line(finished) == sentence
    # A timeout asks about the worker; a cell knows whether its kernel runs one.
    assert "is a worker polling the workflow's task queue?" in explain(TimeoutError())
    assert "this kernel runs no worker" in one_line(TimeoutError())


def test_a_deadline_runs_on_the_monotonic_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    deadline = Deadline(5)
    assert not deadline.passed and deadline.remaining == 5
    now[0] = 103.0
    assert deadline.elapsed == 3 and deadline.remaining == 2 and not deadline.passed
    now[0] = 105.0
    assert deadline.passed and deadline.remaining == 0


@pytest.mark.parametrize("name", MISTAKES)
async def test_a_learners_worker_mistake_shows_as_one_line_that_says_what_to_fix(
    name: str,
    dev_client: Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_modules(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    queue = f"mistake-{uuid.uuid4().hex[:8]}"
    shell = InteractiveShell.instance()
    try:
        install_error_display(shell)
        shell.user_ns.update(cell_namespace(dev_client, queue))
        result = await run_cell(shell, MISTAKES[name].source)
    finally:
        InteractiveShell.clear_instance()
        for module in MODULES:
            sys.modules.pop(module.removesuffix(".py"), None)
    assert result.error_in_exec is not None
    shown = capsys.readouterr()
    lines = ANSI.sub("", shown.out + shown.err).strip().splitlines()
    assert lines == [MISTAKES[name].line.format(queue=queue)]


def test_any_other_type_error_keeps_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    shell = InteractiveShell.instance()
    try:
        install_error_display(shell)
        result = shell.run_cell("def total(prices):\n    return sum(prices)\ntotal(5)")
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, TypeError)
    shown = ANSI.sub("", "".join(capsys.readouterr()))
    assert "Traceback (most recent call last)" in shown and "return sum(prices)" in shown


OWN_WORKER = "class Worker:\n    pass\n\n"


@pytest.mark.parametrize(
    ("used", "message"),
    [
        ("await Worker()", "object Worker can't be used in 'await' expression"),
        ("with Worker():\n    pass", "'Worker' object does not support the context manager"),
    ],
)
async def test_awaiting_or_entering_any_worker_but_temporals_keeps_its_traceback(
    used: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Python's words are the same for any object, a learner's own class called Worker too.
    shell = InteractiveShell.instance()
    try:
        install_error_display(shell)
        result = await run_cell(shell, OWN_WORKER + used)
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, TypeError)
    assert message in str(result.error_in_exec)
    shown = ANSI.sub("", "".join(capsys.readouterr()))
    assert "Traceback (most recent call last)" in shown and used.splitlines()[0] in shown


async def test_a_call_without_await_says_which_call_needs_it_and_warns_no_more(
    dev_client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    shell = InteractiveShell.instance()
    try:
        install_error_display(shell)
        shell.user_ns["client"] = dev_client
        result = await run_cell(
            shell,
            "handle = client.get_workflow_handle('ORDER-1')\n"
            "description = handle.describe()  # the mistake: no await\n"
            "description.status",
        )
        unawaited = shell.user_ns["description"]
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, AttributeError)
    lines = ANSI.sub("", "".join(capsys.readouterr())).strip().splitlines()
    assert lines == [
        "AttributeError: 'coroutine' object has no attribute 'status': "
        "`WorkflowHandle.describe(...)` is async and needs `await` before it, then run the "
        "cell again"
    ]
    # Closed, it never warns "coroutine ... was never awaited" when it is collected.
    assert inspect.getcoroutinestate(unawaited) == inspect.CORO_CLOSED
