"""The one place that takes the build machine out of the executed notebooks, so a page shows
what a learner sees when they run the notebook, and nothing of the machine that built it.

- Paths: the working copy the notebooks ran in reads `notebooks`, the state folder
  `.temporal` (where `make lab` keeps it), the checkout's own paths are relative to it, the
  home folder is `~`.
- The build's free ports read as the defaults a learner gets: gRPC 7233, Web UI 8233.
- A worker's identity (`pid@host`) names no build host.
- A link to this machine (`localhost`, the Web UI) is not clickable on a site: it becomes its
  label and where it opens when the reader runs the notebook.
- Widgets (the Approve / Reject buttons) need a live kernel: a sentence says what is there.

`leaks()` then finds anything of the machine that is left, and the build stops on it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from order_management.local.config import DEFAULT_ADDRESS, UI_PORT_OFFSET

DEFAULT_PORT = int(DEFAULT_ADDRESS.rsplit(":", 1)[1])
LEARNER_HOST = "your-computer"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "Here the notebook shows buttons and a status line that follows the order "
    "(ipywidgets): they work in a running notebook, so run it to click them."
)
LOCAL_HOSTS = r"(?:localhost|127\.0\.0\.1)"
HTML_LOCAL_LINK = re.compile(
    rf'<a\s[^>]*href="(https?://{LOCAL_HOSTS}[^"]*)"[^>]*>(.*?)</a>', re.DOTALL
)
MARKDOWN_LOCAL_LINK = re.compile(rf"\[([^\]]+)\]\((https?://{LOCAL_HOSTS}[^)]*)\)")
MARKDOWN_LOCAL_AUTOLINK = re.compile(rf"<(https?://{LOCAL_HOSTS}[^>]*)>")
# What no page may show: a token in a URL or an API key, an absolute path of a build machine.
SECRET = re.compile(r"token=[\w-]{8,}|api[_-]?key\s*[=:]\s*['\"]?\w{8,}", re.IGNORECASE)
BUILD_PATH = re.compile(r"(?<![\w.~-])/(?:work|tmp|root|home|Users|private|var/folders)/[^\s'\"<]*")


@dataclass(frozen=True)
class BuildMachine:
    """What of the build machine can end up in an output."""

    repo: Path
    notebook_dir: Path  # the working copy of notebooks/ that the kernels ran in
    state_dir: Path
    home: Path
    hostname: str
    ports: tuple[int, ...]  # the dev servers' gRPC ports

    def replacements(self) -> list[tuple[re.Pattern[str], str]]:
        """(pattern, replacement) pairs, in the order they apply: the most specific first."""
        literal = [
            (self.notebook_dir, "notebooks"),
            (self.state_dir, ".temporal"),
            (self.repo, "."),
            (self.home, "~"),
        ]
        pairs = [(re.compile(re.escape(str(path)) + "/?"), _relative(to)) for path, to in literal]
        for port in self.ports:
            pairs += [
                (re.compile(rf"temporal-{port}\.db"), "temporal.db"),
                (re.compile(rf"(?<!\d){port}(?!\d)"), str(DEFAULT_PORT)),
                (
                    re.compile(rf"(?<!\d){port + UI_PORT_OFFSET}(?!\d)"),
                    str(DEFAULT_PORT + UI_PORT_OFFSET),
                ),
            ]
        if self.host_name:
            pairs.append((self.host_name, LEARNER_HOST))
        return pairs

    @property
    def host_name(self) -> re.Pattern[str] | None:
        """The machine's name as a word (in a worker identity `pid@host`, a task queue name
        `my-shop-host-pid`), unless it is a name every machine has."""
        if self.hostname in ("", "localhost"):
            return None
        return re.compile(rf"(?<![\w.]){re.escape(self.hostname)}(?![\w])")

    def clean(self, text: str) -> str:
        for pattern, replacement in self.replacements():
            text = pattern.sub(replacement, text)
        return text


def _relative(to: str) -> Callable[[re.Match[str]], str]:
    """`to/` for a path followed by more of it (nothing for the checkout: its paths are
    relative to it), `to` alone for the bare path."""

    def replace(match: re.Match[str]) -> str:
        if not match.group(0).endswith("/"):
            return to
        return "" if to == "." else f"{to}/"

    return replace


def scrub(nb: Any, machine: BuildMachine) -> Any:
    """`nb` with the build machine taken out of every output, and local links made text."""
    nb.metadata.pop("widgets", None)  # the widgets' state, for a live kernel only
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = local_links_in_markdown(cell.source)
        for output in cell.get("outputs", []):
            _scrub_output(output, machine)
    return nb


def _scrub_output(output: Any, machine: BuildMachine) -> None:
    if output.output_type == "stream":
        output.text = machine.clean(output.text)
    elif output.output_type == "error":
        output.ename = machine.clean(output.ename)
        output.evalue = machine.clean(output.evalue)
        output.traceback = [machine.clean(line) for line in output.traceback]
    else:  # display_data, execute_result
        if WIDGET_VIEW in output.data:
            output.data = {"text/html": f"<p><em>{WIDGET_NOTE}</em></p>", "text/plain": WIDGET_NOTE}
        for mime, value in list(output.data.items()):
            if isinstance(value, str):
                value = machine.clean(value)
                output.data[mime] = local_links_in_html(value) if mime == "text/html" else value


def local_links_in_html(text: str) -> str:
    """Each `<a href="http://localhost...">label</a>` as its label and where it opens."""

    def as_text(match: re.Match[str]) -> str:
        return (
            f'<span class="local-link" title="{match.group(1)}">{match.group(2)}</span> '
            f"<em>({_where_it_opens(html.unescape(match.group(1)))})</em>"
        )

    return HTML_LOCAL_LINK.sub(as_text, text)


def local_links_in_markdown(source: str) -> str:
    """Each `[label](http://localhost...)` or `<http://localhost...>` as text."""
    source = MARKDOWN_LOCAL_LINK.sub(
        lambda m: f"{m.group(1)} ({_where_it_opens(m.group(2))}: `{m.group(2)}`)", source
    )
    return MARKDOWN_LOCAL_AUTOLINK.sub(lambda m: f"`{m.group(1)}`", source)


def _where_it_opens(url: str) -> str:
    if "/namespaces/" in url:
        return "a link to this workflow in the Temporal Web UI when you run the notebook"
    return "a link on your own machine when you run the notebook"


def leaks(nb: Any, machine: BuildMachine) -> list[str]:
    """What of the build machine or a secret is left in `nb`'s outputs, one line each."""
    found = []
    needles = [str(machine.repo), str(machine.state_dir), str(machine.home) + "/"]
    for index, cell in enumerate(nb.cells):
        text = _cell_text(cell)
        hits = [needle for needle in needles if needle in text]
        hits += SECRET.findall(text) + BUILD_PATH.findall(text)
        if machine.host_name and machine.host_name.search(text):
            hits.append(machine.hostname)
        hits += [str(port) for port in machine.ports if re.search(rf"(?<!\d){port}(?!\d)", text)]
        found += [f"cell {index}: {hit}" for hit in hits]
    return found


def _cell_text(cell: Any) -> str:
    """What the kernel wrote into the cell: the source is the committed notebook's own."""
    parts = []
    for output in cell.get("outputs", []):
        parts += [output.get("text", ""), output.get("evalue", "")]
        parts += output.get("traceback", [])
        parts += [v for v in output.get("data", {}).values() if isinstance(v, str)]
    return "\n".join(parts)
