"""A notebook is recorded as opened at its first cell that uses the workshop's helpers, and as
finished when its last code cell succeeds, and not before: in a real kernel told its notebook's
file as Jupyter tells it (`JPY_SESSION_NAME`), its cells sent with their ids as JupyterLab sends
them, the learner's progress workflow read by query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from order_management.progress.record import SESSION_VARIABLE
from order_management.progress.workflow import PROGRESS_WORKFLOW_ID
from tests.helpers.notebooks import Kernel, NotebookServer, notebook_client, temporal

pytestmark = pytest.mark.notebook

NOTEBOOK = "progress_probe"


def probe_notebook(folder: Path) -> tuple[Path, Any]:
    """A short notebook on disk: connect, compute, check, then "What you saw" and an empty
    code cell (JupyterLab runs no empty cell, so the check is the last one that counts)."""
    cell = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(
        cells=[
            cell(
                "from order_management.notebook import connect_and_show\n"
                "client = await connect_and_show()"
            ),
            cell("total = 1 + 1"),
            cell("assert total == 2\nprint('the end')"),
            nbformat.v4.new_markdown_cell("## What you saw"),
            cell(""),
        ]
    )
    path = folder / f"{NOTEBOOK}.ipynb"
    nbformat.write(nb, path)
    return path, nb


def recorded(kernel: Kernel, server: NotebookServer, kind: str) -> list[str]:
    """The notebooks the progress workflow lists as `kind` ("opened", "finished"), by query
    with the `temporal` CLI, once the signals the kernel sent in the background have arrived."""
    kernel.run("from order_management.progress.record import flush\nawait flush()")
    answer = temporal(
        server, "workflow", "query", "--workflow-id", PROGRESS_WORKFLOW_ID,
        "--name", "progress", "--output", "json",
    )  # fmt: skip
    return json.loads(answer)["queryResult"][0][kind] or []  # the CLI shows [] as null


def test_a_notebook_is_finished_when_its_last_code_cell_succeeds(
    notebook_server: NotebookServer, tmp_path: Path
) -> None:
    path, nb = probe_notebook(tmp_path)
    connect, compute, last = nb.cells[:3]
    client = notebook_client(nb)
    # What jupyter_server gives a kernel that JupyterLab starts: the notebook's absolute path.
    env = dict(notebook_server.env, **{SESSION_VARIABLE: str(path)})
    with client.setup_kernel(env=env):
        kernel = Kernel(client)
        for cell in (connect, compute):
            client.execute_cell(cell, nb.cells.index(cell))
        assert NOTEBOOK in recorded(kernel, notebook_server, "opened")
        assert NOTEBOOK not in recorded(kernel, notebook_server, "finished")

        # The learner edits the last cell (its id stays) and it fails: not finished.
        last.source = "assert total == 3, 'not yet'"
        with pytest.raises(CellExecutionError):
            client.execute_cell(last, nb.cells.index(last))
        assert NOTEBOOK not in recorded(kernel, notebook_server, "finished")

        # Edited again, it succeeds: finished, though its source is no longer the file's.
        last.source = "assert total == 2, 'fixed'\nprint('the end')"
        client.execute_cell(last, nb.cells.index(last))
        assert NOTEBOOK in recorded(kernel, notebook_server, "finished")


def test_a_notebook_that_never_connects_is_recorded_as_opened(
    notebook_server: NotebookServer, tmp_path: Path
) -> None:
    # As 05 starts: a parameters cell, no connection to the dev server.
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "from order_management.notebook import check_parameters\n"
                "check_parameters(WAIT_SECONDS=30.0)"
            )
        ]
    )
    path = tmp_path / "parameters_only.ipynb"
    nbformat.write(nb, path)
    client = notebook_client(nb)
    with client.setup_kernel(env=dict(notebook_server.env, **{SESSION_VARIABLE: str(path)})):
        kernel = Kernel(client)
        client.execute_cell(nb.cells[0], 0)
        assert "parameters_only" in recorded(kernel, notebook_server, "opened")
