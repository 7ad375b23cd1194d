"""A JupyterLab terminal's start-up puts the workshop's tools first on PATH, in either shell
Jupyter picks: `$SHELL` (bash here) or, when `$SHELL` is unset (a CI runner, some spawners),
POSIX `sh`. Each test runs `terminal_shell`'s command in a real pseudo-terminal, as Jupyter
does, with a home whose start-up files put a decoy folder in front (as pyenv's shims do), and
types the commands a learner would.
"""

from __future__ import annotations

import select
import shutil
import time
from pathlib import Path

import pytest
from ptyprocess import PtyProcessUnicode

from order_management.hosting.jupyter import terminal_shell

DECOY_PATH = 'PATH="$HOME/decoy:$PATH"; export PATH\n'


def _home(tmp_path: Path) -> Path:
    """A home whose login and interactive start-up both put `decoy/` first on PATH."""
    home = tmp_path / "home"
    (home / "decoy").mkdir(parents=True)
    (home / ".profile").write_text(DECOY_PATH)
    (home / ".bashrc").write_text(DECOY_PATH)
    return home


def _type(command: list[str], home: Path, line: str) -> str:
    """What the terminal shows after `line` is typed, up to the shell's `DONE-42`."""
    terminal = PtyProcessUnicode.spawn(
        command, env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "xterm"}
    )
    try:
        terminal.write(line + " echo DONE-$((6 * 7))\r")
        seen, deadline = "", time.monotonic() + 30
        while "DONE-42" not in seen and time.monotonic() < deadline:
            if select.select([terminal.fd], [], [], 0.5)[0]:
                seen += terminal.read(4096)
        return seen
    finally:
        terminal.terminate(force=True)


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_a_login_terminal_finds_the_workshops_tools_first(shell: str, tmp_path: Path) -> None:
    program = shutil.which(shell)
    assert program is not None, f"{shell} is not installed"
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("temporal", "python"):
        (tools / name).write_text("#!/bin/sh\n")
        (tools / name).chmod(0o755)
    command = terminal_shell([program, "-l"], str(tools))

    seen = _type(
        command, _home(tmp_path), "echo FIRST=${PATH%%:*}; command -v temporal; command -v python;"
    )

    assert "DONE-42" in seen, f"the terminal said:\n{seen}"
    assert f"FIRST={tools}\r\n" in seen, seen
    assert f"{tools / 'temporal'}\r\n" in seen, seen
    assert f"{tools / 'python'}\r\n" in seen, seen


def test_any_other_terminal_command_is_left_as_it_is() -> None:
    assert terminal_shell(["/usr/bin/fish"], "/tools") == ["/usr/bin/fish"]
