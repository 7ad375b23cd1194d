"""The agenda: every notebook's workshop metadata, its minutes as estimated from the notebook
itself, the core track within three hours, and the README's table made from them."""

from __future__ import annotations

import json

import pytest

from order_management.notebook.agenda import (
    agenda,
    core_minutes,
    estimate_minutes,
    markdown_table,
    readme_agenda,
)
from tests.helpers.notebooks import NOTEBOOK_DIR, NOTEBOOKS
from tests.helpers.servers import REPO

CORE_TRACK_LIMIT_MINUTES = 180


def workshop(name: str) -> tuple[dict, dict]:
    notebook = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text())
    return notebook["metadata"].get("workshop", {}), notebook


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_states_its_track_minutes_and_objectives(name: str) -> None:
    meta, notebook = workshop(name)
    assert meta, f"{name} has no workshop metadata (track, minutes, objectives)"
    assert meta["track"] in ("core", "deep-dive")
    assert 3 <= len(meta["objectives"]) <= 6, meta["objectives"]
    assert meta["minutes"] == estimate_minutes(notebook), (
        f"{name}: minutes says {meta['minutes']}, the estimate is {estimate_minutes(notebook)}"
    )


def test_the_core_track_fits_three_hours() -> None:
    sessions = agenda()
    core = [session.name for session in sessions if session.track == "core"]
    assert core == [name for name in NOTEBOOKS if name[:2] <= "05"], core
    assert core_minutes(sessions) <= CORE_TRACK_LIMIT_MINUTES


def test_the_readmes_agenda_is_the_notebooks_own() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme_agenda(readme) == markdown_table(agenda()), (
        "run `python -m order_management.notebook.agenda --readme`"
    )
