"""The learner's progress as a table, one row per notebook of the agenda (00_setup shows it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from order_management.notebook.agenda import NOTEBOOK_DIR, agenda
from order_management.progress.workflow import Progress

if TYPE_CHECKING:
    import pandas as pd

DONE, NOT_YET = "✓", ""


def progress_frame(progress: Progress, notebook_dir: Path = NOTEBOOK_DIR) -> pd.DataFrame:
    """Each notebook on the agenda (and any other the learner worked in): its track and minutes,
    whether it was opened and finished, the exercises passed, and the last error if it was
    seen there. Notebooks without agenda metadata still get a row once recorded."""
    import pandas as pd  # only the kernels that show the table pay for pandas

    sessions = {session.name: session for session in agenda(notebook_dir)}
    names = list(sessions) + [
        name
        for name in [*progress.opened, *progress.finished, *progress.passed]
        if name not in sessions
    ]
    rows = []
    for name in dict.fromkeys(names):
        session = sessions.get(name)
        rows.append(
            {
                "notebook": name,
                "track": session.track if session else "",
                "minutes": session.minutes if session else None,
                "opened": DONE if name in progress.opened else NOT_YET,
                "finished": DONE if name in progress.finished else NOT_YET,
                "exercises passed": len(progress.passed.get(name, [])),
                "last error": progress.last_error if progress.last_error_notebook == name else "",
            }
        )
    return pd.DataFrame(rows).set_index("notebook")
