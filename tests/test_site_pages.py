"""The rendered site's own parts, without running a notebook: the front page from the agenda
(with and without the notebooks' `workshop` metadata), and what the scrub takes out of the
executed notebooks. tests/integration/test_site.py builds and opens the whole site."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from website.pages import contents, front_page
from website.scrub import WIDGET_VIEW, BuildMachine, leaks, scrub


def notebook(folder: Path, name: str, heading: str, workshop: dict | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {heading}\n\nTwo words."),
        nbformat.v4.new_code_cell("print('hi')"),
    ]
    if workshop is not None:
        nb.metadata["workshop"] = workshop
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    notebook(tmp_path, "00_setup", "Setup", {"track": "core", "minutes": 10, "objectives": []})
    notebook(
        tmp_path,
        "01_deep",
        "A deep dive",
        {"track": "deep-dive", "minutes": 30, "objectives": ["read a history as a table"]},
    )
    notebook(
        tmp_path,
        "02_first_order",
        "First order",
        {"track": "core", "minutes": 25, "objectives": ["start a workflow", "query it"]},
    )
    notebook(tmp_path, "03_unplanned", "No metadata yet")
    return tmp_path


def test_pages_follow_the_agenda_track_by_track_then_the_notebooks_without_one(
    notebooks: Path,
) -> None:
    assert contents(notebooks).order == ["00_setup", "02_first_order", "01_deep", "03_unplanned"]


def test_front_page_shows_tracks_minutes_and_objectives(notebooks: Path) -> None:
    page = front_page(contents(notebooks))
    core, deep = page.index("## Core track: 35 minutes"), page.index("## Deep dives: 30 minutes")
    assert core < page.index("{doc}`02_first_order` (`02_first_order.ipynb`): 25 minutes") < deep
    assert "  - start a workflow\n  - query it\n" in page
    assert page.index("  - read a history as a table") > deep
    # The notebook without metadata: listed after the agenda, its time estimated.
    more = page.index("## More notebooks")
    assert page.index("{doc}`03_unplanned` (`03_unplanned.ipynb`): about 1 minutes") > more


def test_front_page_without_any_metadata_lists_every_notebook_in_file_order(
    tmp_path: Path,
) -> None:
    for name in ("01_b", "00_a"):
        notebook(tmp_path, name, name.upper())
    page = front_page(contents(tmp_path))
    assert "## The notebooks" in page and "Core track" not in page
    assert page.index("`00_a`") < page.index("`01_b`")
    assert ":caption: Notebooks\n\n00_a\n01_b\n" in page


@pytest.fixture
def machine(tmp_path: Path) -> BuildMachine:
    return BuildMachine(
        repo=Path("/work/checkout"),
        notebook_dir=Path("/work/checkout/build/site/run"),
        state_dir=tmp_path / "state",
        home=Path("/root"),
        hostname="buildhost",
        ports=(23456,),
    )


def executed(*outputs: dict, markdown: str = "# A notebook") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.from_dict(output) for output in outputs]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown), cell])
    nb.metadata["widgets"] = {"state": {}}
    return nb


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_scrub_shows_what_a_learner_sees_instead_of_the_build_machine(
    machine: BuildMachine,
) -> None:
    state = machine.state_dir
    nb = executed(
        stream(
            "Python 3.11.7 at /work/checkout/.venv/bin/python\n"
            f"Connected to Temporal at localhost:23456, database {state}/temporal-23456.db\n"
            "Web UI: http://localhost:24456\n"
            "Saved /work/checkout/build/site/run/saved_histories/a.json\n"
            "Worker 4242@buildhost, config in /root/.config\n"
            "Worker polling 'my-shop-buildhost-4242'\n"
        )
    )
    scrub(nb, machine)
    assert nb.cells[1].outputs[0].text == (
        "Python 3.11.7 at .venv/bin/python\n"
        "Connected to Temporal at localhost:7233, database .temporal/temporal.db\n"
        "Web UI: http://localhost:8233\n"
        "Saved notebooks/saved_histories/a.json\n"
        "Worker 4242@your-computer, config in ~/.config\n"
        "Worker polling 'my-shop-your-computer-4242'\n"
    )
    assert leaks(nb, machine) == []
    assert "widgets" not in nb.metadata


def test_scrub_turns_local_links_into_text_and_widgets_into_a_sentence(
    machine: BuildMachine,
) -> None:
    link = '<a href="http://localhost:24456/namespaces/default/workflows/o-1">o-1</a>'
    nb = executed(
        {"output_type": "display_data", "metadata": {}, "data": {"text/html": f"Web UI: {link}"}},
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {WIDGET_VIEW: {"model_id": "abc"}, "text/plain": "VBox(...)"},
        },
        markdown="Open [the Web UI](http://localhost:8233) or <http://localhost:8233/x>, "
        "or [the docs](https://docs.temporal.io).",
    )
    scrub(nb, machine)
    shown = nb.cells[1].outputs[0].data["text/html"]
    assert "<a " not in shown and "o-1</span>" in shown
    assert "a link to this workflow in the Temporal Web UI when you run the notebook" in shown
    assert WIDGET_VIEW not in nb.cells[1].outputs[1].data
    assert "run it to click them" in nb.cells[1].outputs[1].data["text/html"]
    assert nb.cells[0].source == (
        "Open the Web UI (a link on your own machine when you run the notebook: "
        "`http://localhost:8233`) or `http://localhost:8233/x`, "
        "or [the docs](https://docs.temporal.io)."
    )


def test_leaks_name_what_the_scrub_could_not_place(machine: BuildMachine) -> None:
    nb = executed(
        stream("cache at /tmp/xyz/cache\n"),
        stream("http://localhost:8888/lab?token=0123456789abcdef\n"),
    )
    found = leaks(scrub(nb, machine), machine)
    assert sorted(found) == ["cell 1: /tmp/xyz/cache", "cell 1: token=0123456789abcdef"]
