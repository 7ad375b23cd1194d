"""What every committed notebook must look like: listed, without outputs, a `parameters` cell
first, each exercise with its solution file and its self-check."""

from __future__ import annotations

import nbformat
import pytest

from tests.helpers.notebooks import NOTEBOOK_DIR, NOTEBOOKS, SOLUTIONS, committed, tagged


def test_every_notebook_is_run() -> None:
    on_disk = sorted(path.stem for path in NOTEBOOK_DIR.glob("*.ipynb"))
    assert on_disk == sorted(NOTEBOOKS), "add new notebooks to NOTEBOOKS in this file"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean(name: str) -> None:
    nb = committed(name)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), (
        f"{name} has outputs: clear them before committing"
    )
    assert "parameters" in code[0].metadata.get("tags", []), (
        f"{name}: the first code cell must be tagged `parameters`"
    )
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_has_a_solution_and_a_check(name: str) -> None:
    nb = committed(name)
    exercises = tagged(nb, "exercise")
    solutions = sorted(path.name for path in SOLUTIONS.glob(f"{name}_*.py"))
    assert solutions == [f"{name}_{k}.py" for k in range(1, len(exercises) + 1)]
    for k, cell in enumerate(exercises, start=1):
        at = nb.cells.index(cell)
        following = nb.cells[at + 1]
        assert "check" in following.metadata.get("tags", []), (
            f"{name}: an exercise cell must be followed by its `check` cell"
        )
        assert "self_check(" in following.source
        task = nb.cells[at - 1]
        assert task.cell_type == "markdown" and f"%load solutions/{name}_{k}.py" in task.source, (
            f"{name}: the task above exercise {k} must say how to load its solution"
        )
    if name != "00_setup":
        assert exercises, f"{name} needs at least one exercise"
