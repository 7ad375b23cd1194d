"""The `temporal` CLI, run from a cell exactly as a learner would type it in a terminal."""

from __future__ import annotations

import shlex
import subprocess

from order_management.local import config, devserver
from order_management.orders import OrderError

CLI_TIMEOUT_SECONDS = 30.0


def temporal_command(*args: str) -> list[str]:
    """`temporal <args>` for the configured server (the venv's own `temporal` binary)."""
    binary = devserver.temporal_binary()
    if binary is None:
        raise OrderError("No `temporal` binary found; install the workshop with `make setup`")
    settings = config.temporal_settings()
    return [str(binary), *args, "--address", settings.address, "--namespace", settings.namespace]


def temporal_cli(*args: str, timeout: float = CLI_TIMEOUT_SECONDS) -> None:
    """Run `temporal <args>` as you would in a terminal, and print its output."""
    command = temporal_command(*args)
    print("$ temporal " + shlex.join(args))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OrderError(
            f"`temporal {shlex.join(args)}` did not answer within {timeout:g} s"
        ) from None
    output = (done.stdout + done.stderr).rstrip()
    print(output)
    if done.returncode != 0:
        raise OrderError(f"`temporal {args[0]} ...` failed (exit code {done.returncode})")


_background_commands: list[subprocess.Popen[bytes]] = []


def signal_command(workflow_id: str, approved: bool) -> str:
    """What to type in a terminal to approve (or reject) the order `workflow_id`."""
    return (
        f"temporal workflow signal --workflow-id {workflow_id} "
        f"--name approve_order --input {str(approved).lower()}"
    )


def print_signal_command(workflow_id: str, approved: bool) -> None:
    """Print the command for the instructor to type; the notebook sends nothing itself."""
    print(
        f"Nothing is sent for you. In a terminal, type:\n  {signal_command(workflow_id, approved)}"
    )


def signal_from_terminal_later(workflow_id: str, approved: bool, delay_seconds: float) -> None:
    """In `delay_seconds`, send the approval signal from a separate `temporal` process.

    This is exactly what someone would type in a terminal; doing it from a process started
    here lets the notebook run unattended (in CI) while no cell is running.
    """
    command = temporal_command(
        "workflow",
        "signal",
        "--workflow-id",
        workflow_id,
        "--name",
        "approve_order",
        "--input",
        str(approved).lower(),
    )
    script = f"sleep {delay_seconds:g} && exec {shlex.join(command)}"
    # Reap earlier ones so no zombie outlives its usefulness.
    _background_commands[:] = [p for p in _background_commands if p.poll() is None]
    _background_commands.append(subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL))
    print(
        f"In {delay_seconds:g} s a separate process will run:\n"
        f"  {signal_command(workflow_id, approved)}"
    )
