"""When a notebook counts as finished: its last code cell ran, and raised nothing.

No cell of the lesson says so (the cells show the SDK, progress stays out of their way): the
kernel hears of every cell it ran (IPython's `post_run_cell` event) and of that cell's id
(`sdk_internals.executed_cell_id`, sent by JupyterLab). The notebook's file says which code
cell comes last. Ids, not sources: nbformat 4.5 gives every cell an id that stays when the
cell is edited, so a learner who changed the last cell still finishes when it runs.

A front end that sends no cell id (nbclient, nbconvert) runs no notebook to a recorded finish.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from order_management import sdk_internals
from order_management.progress import record

_finished: set[str] = set()
"""The notebooks this kernel recorded as finished: once each, not at every later run."""


def install_finished_hook(shell: Any) -> None:
    """Record the notebook as finished when its last code cell succeeds. Idempotent."""
    if _record_if_last_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _record_if_last_cell)


def _record_if_last_cell(result: Any) -> None:
    # Runs after every cell, so the usual case returns before any file is touched.
    cell_id = sdk_internals.executed_cell_id(result)
    if cell_id is None or not result.success:
        return
    path = record.notebook_path()
    if path is None or path.stem in _finished:
        return
    try:
        last = last_code_cell_id(path)
    except Exception:  # renamed, deleted, half-saved, not a notebook: progress is never worth
        return  # a traceback under the learner's cell (IPython prints a callback's)
    if cell_id == last:
        _finished.add(path.stem)
        record.notebook_finished(path.stem)


def last_code_cell_id(path: Path) -> str | None:
    """The id of the notebook's last code cell that holds code (JupyterLab does not run an
    empty one); read again only when the file was saved since."""
    return _last_code_cell_id(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _last_code_cell_id(path: Path, saved_at: int) -> str | None:
    # `saved_at` (the file's mtime) is part of the cache's key: a saved edit reads it again.
    # The JSON itself, not nbformat: no schema validation at a cell's end, and no ids made
    # up for an older file (those would match nothing JupyterLab sends).
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [
        cell
        for cell in notebook.get("cells", [])
        if cell.get("cell_type") == "code" and "".join(cell.get("source", "")).strip()
    ]
    last_id = code[-1].get("id") if code else None
    return last_id if isinstance(last_id, str) else None
