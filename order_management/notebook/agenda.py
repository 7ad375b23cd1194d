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


def markdown_table(sessions: list[Session]) -> str:
    """The agenda as the README shows it: one row per notebook, then the core track's total."""
    rows = [
        "| notebook | track | minutes | you will be able to |",
        "| --- | --- | ---: | --- |",
    ]
    for session in sessions:
        objectives = "; ".join(session.objectives).replace("|", "\\|")
        title = session.title.split(" · ", 1)[-1]  # "04 · Durability: ..." -> "Durability: ..."
        rows.append(
            f"| `{session.name}`: {title} | {session.track} | {session.minutes} | {objectives} |"
        )
    rows.append(f"\nThe core track: {core_minutes(sessions)} minutes.")
    return "\n".join(rows)


README_START = "<!-- agenda: made by `python -m order_management.notebook.agenda --readme` -->"
README_END = "<!-- end of the agenda -->"


def readme_agenda(readme: str) -> str:
    """The agenda block of the README's text (between its two markers), or "" if none."""
    span = _agenda_span(readme)
    return readme[span[0] : span[1]].strip() if span else ""


def write_readme_agenda(path: Path, sessions: list[Session]) -> None:
    """Replace the README's agenda block with the table of `sessions`."""
    readme = path.read_text()
    span = _agenda_span(readme)
    if span is None:
        raise ValueError(f"{path} has no agenda block ({README_START} ... {README_END})")
    table = f"\n{markdown_table(sessions)}\n"
    path.write_text(readme[: span[0]] + table + readme[span[1] :])


def _agenda_span(readme: str) -> tuple[int, int] | None:
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        return None
    return start + len(README_START), end


def main(argv: list[str] | None = None) -> None:
    """Print the agenda's table; with --readme, write it into README.md instead."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's agenda")
    args = parser.parse_args(argv)
    sessions = agenda()
    if args.readme:
        write_readme_agenda(NOTEBOOK_DIR.parent / "README.md", sessions)
    else:
        print(markdown_table(sessions))


if __name__ == "__main__":
    main()
