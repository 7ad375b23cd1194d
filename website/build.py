"""`make site`: execute every notebook, take the build machine out of the outputs, and render
the executed notebooks as a static HTML site in build/site/html/.

    python -m website.build

Steps: copy notebooks/ to build/site/run/ (the cells write files there: saved histories,
07's my_shop/), execute them there (website/execute.py), scrub each one into
build/site/source/ with the front page and "Run it yourself" (website/scrub.py,
website/pages.py), run Sphinx, then check that no page loads anything from the network.
"""

from __future__ import annotations

import re
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from sphinx.cmd.build import build_main

from tests.helpers.servers import free_port  # the tests' free ports, as CI runs the notebooks
from website import pages
from website.execute import Execution, Server, execute_all
from website.scrub import BuildMachine, leaks, scrub

WEBSITE = Path(__file__).resolve().parent
REPO = WEBSITE.parent
NOTEBOOKS = REPO / "notebooks"
BUILD = REPO / "build" / "site"
RUN, SOURCE, HTML = BUILD / "run", BUILD / "source", BUILD / "html"

# An attribute or CSS rule that makes the browser fetch something: a script, a stylesheet, an
# image, a font, a frame. (An <a href> is only followed when the reader clicks it.)
FETCHED = re.compile(
    r"""<(?:script|img|iframe|source|video|audio|embed)\b[^>]*?\ssrc=["']?(https?:)?//"""
    r"""|<link\b[^>]*?\shref=["']?(https?:)?//"""
    r"""|url\(\s*["']?(https?:)?//"""
    r"""|@import\s+["']?(https?:)?//""",
    re.IGNORECASE,
)


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(BUILD, ignore_errors=True)
    shutil.copytree(NOTEBOOKS, RUN, ignore=shutil.ignore_patterns(*_written_by_cells()))
    contents = pages.contents(NOTEBOOKS)

    state = Path(tempfile.mkdtemp(prefix="site-state-"))
    servers = {name: Server(free_port()) for name in contents.order}  # each port its own
    execution = Execution(RUN, state, servers)
    print(f"Executing {len(contents.order)} notebooks against dev servers the notebooks start")
    try:
        executed = execute_all(contents.order, execution)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    executed_at = time.monotonic()

    machine = BuildMachine(
        repo=REPO,
        notebook_dir=RUN,
        state_dir=state,
        home=Path.home(),
        hostname=socket.gethostname(),
        ports=tuple(server.port for server in servers.values()),
    )
    SOURCE.mkdir(parents=True)
    left = []
    for name, nb in executed.items():
        scrub(nb, machine)
        left += [f"{name} {leak}" for leak in leaks(nb, machine)]
        nbformat.write(nb, SOURCE / f"{name}.ipynb")
    if left:
        print("The build machine shows in the outputs:", *left, sep="\n  ", file=sys.stderr)
        return 1
    (SOURCE / "index.md").write_text(pages.front_page(contents))
    shutil.copy(WEBSITE / f"{pages.RUN_IT_YOURSELF}.md", SOURCE)

    if build_main(["-b", "html", "-q", "-W", "-c", str(WEBSITE), str(SOURCE), str(HTML)]):
        return 1
    fetched = fetched_from_network(HTML)
    if fetched:
        print("Pages that load from the network:", *fetched, sep="\n  ", file=sys.stderr)
        return 1
    finished = time.monotonic()
    print(
        f"Built {HTML.relative_to(REPO)}/ in {finished - started:.0f} s (notebooks "
        f"{executed_at - started:.0f} s, rendering {finished - executed_at:.0f} s): "
        f"{_megabytes(HTML):.1f} MB"
    )
    return 0


def _written_by_cells() -> list[str]:
    """What earlier runs of the notebooks left in notebooks/ (.gitignore lists it)."""
    return [
        "saved_histories",
        "my_shop",
        "test_my_orders.py",
        "charge_first_workflow.py",
        ".ipynb_checkpoints",
        "__pycache__",
    ]


def fetched_from_network(html_dir: Path) -> list[str]:
    """Each built file that would make a browser fetch something from another host."""
    found = []
    for path in sorted(html_dir.rglob("*")):
        if path.suffix in (".html", ".css") and FETCHED.search(path.read_text(errors="replace")):
            found.append(str(path.relative_to(html_dir)))
    return found


def _megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


if __name__ == "__main__":
    sys.exit(main())
