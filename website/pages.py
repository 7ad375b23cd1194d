"""The site's own pages: the agenda as the front page, and the notebooks' order in the menu.

The agenda (track, minutes, objectives) is each notebook's `workshop` metadata, read only
through `order_management.notebook.agenda`. A notebook without it still gets its page, after
the agenda's, with its time estimated by the same module, so the site builds before every
notebook has its metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from order_management.notebook.agenda import (
    TRACKS,
    Session,
    agenda,
    estimate_minutes,
)

TRACK_TITLES = {"core": "Core track", "deep-dive": "Deep dives"}
RUN_IT_YOURSELF = "run-it-yourself"


@dataclass(frozen=True)
class Unscheduled:
    """A notebook with no `workshop` metadata yet: only its name and an estimated time."""

    name: str
    estimated_minutes: int


@dataclass(frozen=True)
class Contents:
    """The notebooks in the site's order: the agenda's, track by track, then the rest."""

    sessions: tuple[Session, ...]
    unscheduled: tuple[Unscheduled, ...]

    @property
    def order(self) -> list[str]:
        return [s.name for s in self.sessions] + [u.name for u in self.unscheduled]


def contents(notebook_dir: Path) -> Contents:
    sessions = agenda(notebook_dir)
    by_track = sorted(sessions, key=lambda s: TRACKS.index(s.track))  # stable: file order
    scheduled = {s.name for s in sessions}
    unscheduled = tuple(
        Unscheduled(path.stem, estimate_minutes(json.loads(path.read_text())))
        for path in sorted(notebook_dir.glob("*.ipynb"))
        if path.stem not in scheduled
    )
    return Contents(tuple(by_track), unscheduled)


def front_page(contents: Contents) -> str:
    """The front page, in MyST markdown: the agenda, then the menu (toctrees)."""
    lines = [
        "# Durable execution, hands on: the workshop, run and rendered",
        "",
        "Every notebook of the Temporal order-management workshop, executed top to bottom "
        "against a real Temporal dev server, with what each cell showed: the live order "
        "statuses, the history tables, the charts, the workflow code on screen and the "
        "one-line errors of the mistakes sections. Read it first, then "
        f"[run it yourself]({RUN_IT_YOURSELF}.md): links to the Temporal Web UI work once the "
        "notebooks run on your machine.",
    ]
    for track in TRACKS:
        sessions = [s for s in contents.sessions if s.track == track]
        if sessions:
            minutes = sum(s.minutes for s in sessions)
            lines += ["", f"## {TRACK_TITLES[track]}: {minutes} minutes", ""]
            for session in sessions:
                lines.append(f"- {_link(session.name)}: {session.minutes} minutes")
                lines += [f"  - {objective}" for objective in session.objectives]
    if contents.unscheduled:
        heading = "More notebooks" if contents.sessions else "The notebooks"
        lines += [
            "",
            f"## {heading}",
            "",
            "In the order to take them. Their time is an estimate (reading, code and "
            "exercises): these notebooks carry no agenda of their own yet.",
            "",
        ]
        lines += [
            f"- {_link(u.name)}: about {u.estimated_minutes} minutes" for u in contents.unscheduled
        ]
    lines += _menu(contents)
    return "\n".join(lines) + "\n"


def _link(name: str) -> str:
    """The notebook's page under its title, and the file to open when running it."""
    return f"{{doc}}`{name}` (`{name}.ipynb`)"


def _menu(contents: Contents) -> list[str]:
    groups = [
        (TRACK_TITLES[track], [s.name for s in contents.sessions if s.track == track])
        for track in TRACKS
    ]
    groups.append(
        (
            "More notebooks" if contents.sessions else "Notebooks",
            [u.name for u in contents.unscheduled],
        )
    )
    groups.append(("Your turn", [RUN_IT_YOURSELF]))
    lines = []
    for caption, names in groups:
        if names:
            lines += ["", "```{toctree}", ":hidden:", f":caption: {caption}", "", *names, "```"]
    return lines
