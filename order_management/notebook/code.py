"""The package's own source on screen: a cell shows the code it is about to exercise.

The code is read from the module that runs (never a copy in markdown), so what a learner
reads is what the worker executes, and a change to the workflow shows up here too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from order_management.local import config


@dataclass(frozen=True)
class SourceExcerpt:
    """Some lines of one source file: highlighted in a notebook, plain text elsewhere."""

    path: Path
    first_line: int
    text: str

    @property
    def header(self) -> str:
        where = self.path
        try:
            where = self.path.relative_to(config.PROJECT_ROOT)
        except ValueError:  # a learner's own module, outside the package
            pass
        last = self.first_line + self.text.count("\n")
        return f"# {where}, lines {self.first_line}-{last}"

    def __str__(self) -> str:
        return f"{self.header}\n{self.text}"

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(noclasses=True, nowrap=False, style="default")
        return highlight(str(self), PythonLexer(), formatter)

    def __repr__(self) -> str:
        return str(self)


class CodeListing:
    """One or more excerpts, shown one after the other."""

    def __init__(self, excerpts: list[SourceExcerpt]) -> None:
        self.excerpts = excerpts

    def _repr_html_(self) -> str:
        return "".join(excerpt._repr_html_() for excerpt in self.excerpts)

    def __repr__(self) -> str:
        return "\n\n".join(str(excerpt) for excerpt in self.excerpts)


def show_code(*targets: Any) -> CodeListing:
    """The source of each target, as the cell's last expression shows it.

    A target is a function, method or class (`OrderWorkflow.run`, `process_payment`), or
    the dotted name of a module-level constant (`"order_management.workflow.STEP_RETRY"`),
    shown with the docstring under it.
    """
    return CodeListing([_excerpt(target) for target in targets])


def _excerpt(target: Any) -> SourceExcerpt:
    if isinstance(target, str):
        return _constant_excerpt(target)
    target = inspect.unwrap(getattr(target, "__func__", target))
    lines, first = inspect.getsourcelines(target)
    return SourceExcerpt(
        Path(inspect.getsourcefile(target) or "?"),
        first,
        textwrap.dedent("".join(lines)).rstrip("\n"),
    )


def _constant_excerpt(dotted_name: str) -> SourceExcerpt:
    module_name, _, name = dotted_name.rpartition(".")
    module = importlib.import_module(module_name)
    path = Path(inspect.getsourcefile(module) or "?")
    source = path.read_text()
    statements = ast.parse(source).body
    for k, node in enumerate(statements):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and name in _assigned_names(node):
            last: ast.stmt = node
            following = statements[k + 1] if k + 1 < len(statements) else None
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                last = following  # the constant's docstring
            lines = source.splitlines()[node.lineno - 1 : last.end_lineno]
            return SourceExcerpt(path, node.lineno, "\n".join(lines))
    raise LookupError(f"{module_name} assigns no {name} at module level")


def _assigned_names(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {t.id for t in targets if isinstance(t, ast.Name)}
