"""The workshop's agenda: each notebook's track, minutes and objectives, from its own metadata.

Every notebook carries `"workshop": {"track": "core" | "deep-dive", "minutes": <int>,
"objectives": [...]}` in its metadata. The README's agenda, the room's instructor view and the
rendered site all read it from here, so the notebooks are the one place the agenda is written.

`estimate_minutes` is how those minutes are estimated for a learner new to Temporal: markdown
read at 150 words a minute, code in cells at 12 lines a minute, 6 minutes an exercise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Any, Literal

Track = Literal["core", "deep-dive"]
TRACKS: tuple[Track, ...] = ("core", "deep-dive")
WORDS_PER_MINUTE = 150
CODE_LINES_PER_MINUTE = 12
MINUTES_PER_EXERCISE = 6
NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Session:
    """One notebook on the agenda."""

    name: str  # the file name without .ipynb, e.g. "01_first_order"
    title: str  # the notebook's first heading
    track: Track
    minutes: int
    objectives: tuple[str, ...]


def agenda(notebook_dir: Path = NOTEBOOK_DIR) -> list[Session]:
    """Every notebook of `notebook_dir` that has workshop metadata, in file-name order."""
    sessions = []
    for path in sorted(notebook_dir.glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        workshop = notebook.get("metadata", {}).get("workshop")
        if workshop is not None:
            sessions.append(_session(path.stem, notebook, workshop))
    return sessions


def core_minutes(sessions: list[Session]) -> int:
    return sum(session.minutes for session in sessions if session.track == "core")


def estimate_minutes(notebook: dict[str, Any]) -> int:
    """A learner's time for a notebook: reading, code and exercises (see the docstring)."""
    words = code_lines = exercises = 0
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            words += len(source.split())
        elif cell["cell_type"] == "code":
            code_lines += sum(1 for line in source.splitlines() if line.strip())
            exercises += "exercise" in cell.get("metadata", {}).get("tags", [])
    return ceil(
        words / WORDS_PER_MINUTE
        + code_lines / CODE_LINES_PER_MINUTE
        + exercises * MINUTES_PER_EXERCISE
    )


def _session(name: str, notebook: dict[str, Any], workshop: dict[str, Any]) -> Session:
    if workshop.get("track") not in TRACKS:
        raise ValueError(f"{name}: workshop track must be one of {TRACKS}, not {workshop!r}")
    return Session(
        name=name,
        title=_title(notebook) or name,
        track=workshop["track"],
        minutes=int(workshop["minutes"]),
        objectives=tuple(workshop.get("objectives", ())),
    )


def _title(notebook: dict[str, Any]) -> str | None:
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None
