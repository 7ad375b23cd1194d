"""Notebook support: what a workshop cell needs besides the Temporal SDK itself.

The cells make the SDK calls (`client.start_workflow`, `handle.query`, `handle.signal`,
`handle.execute_update`, `handle.result`); these modules only run the kernel's worker,
display, chart, check and guard:

- kernel_worker: the worker that runs inside the notebook's kernel, and the connection
- cell_errors: how the kernel shows a learner's mistake (one line to act on, not a trace)
- code: the package's own source, highlighted, so a cell shows the code it exercises
- display: Web UI links, live status lines, how long a cell may wait
- parameters: the parameters cell's values, checked before anything starts
- exercises: "Your turn" self-checks
- widgets: the instructor's Approve / Reject buttons
- terminal: the `temporal` CLI, run from a cell as from a terminal
- seed_snippets: the original demo's `asyncio.run(main())` snippets, verbatim in a cell
- preflight: the OK/FAIL lines of 00_setup
- learner_code: notebook 07's views of the learner's own workflow code (mistakes, replays)
- worker_process, outages: a worker in a process of its own, and outages on purpose (05)

Everything a notebook imports is importable from here, and imported when first asked for:
`from order_management.notebook import self_check` loads the module of `self_check` only, not
the widgets, charts or replays of other notebooks (every kernel pays for what it imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Every notebook connects and runs its worker through kernel_worker, so it is imported now; and
# the package's `kernel_worker` must be that module's KernelWorker, not the module itself
# (which importing the module later would otherwise put under that name).
from order_management.notebook.kernel_worker import (
    QUERY_TIMEOUT_SECONDS,
    KernelWorker,
    WorkerStopped,
    connect_and_show,
    kernel_worker,
    start_worker,
    stop_worker,
)

if TYPE_CHECKING:
    from order_management.notebook.cell_errors import BRIEF_ERRORS, install_error_display
    from order_management.notebook.code import show_code
    from order_management.notebook.display import (
        WebLink,
        explain_approval,
        new_order_id,
        terminate_if_running,
        time_allowed,
        watch_status,
        web_ui_link,
        workflow_link,
    )
    from order_management.notebook.exercises import NotYet, self_check
    from order_management.notebook.learner_code import mistake_expected, replay_line, side_by_side
    from order_management.notebook.parameters import InvalidParameter, check_parameters
    from order_management.notebook.preflight import (
        Check,
        environment_checks,
        print_checks,
        server_checks,
    )
    from order_management.notebook.seed_snippets import enable_seed_snippets
    from order_management.notebook.terminal import (
        signal_from_terminal_later,
        temporal_cli,
        temporal_command,
    )
    from order_management.notebook.widgets import ApprovalPanel, approval_panel

# Each name, and the module of this package that defines it.
_HOMES: dict[str, str] = {
    "BRIEF_ERRORS": "cell_errors",
    "install_error_display": "cell_errors",
    "show_code": "code",
    "WebLink": "display",
    "explain_approval": "display",
    "new_order_id": "display",
    "terminate_if_running": "display",
    "time_allowed": "display",
    "watch_status": "display",
    "web_ui_link": "display",
    "workflow_link": "display",
    "NotYet": "exercises",
    "self_check": "exercises",
    "mistake_expected": "learner_code",
    "replay_line": "learner_code",
    "side_by_side": "learner_code",
    "InvalidParameter": "parameters",
    "check_parameters": "parameters",
    "Check": "preflight",
    "environment_checks": "preflight",
    "print_checks": "preflight",
    "server_checks": "preflight",
    "enable_seed_snippets": "seed_snippets",
    "signal_from_terminal_later": "terminal",
    "temporal_cli": "terminal",
    "temporal_command": "terminal",
    "ApprovalPanel": "widgets",
    "approval_panel": "widgets",
}

__all__ = [
    "BRIEF_ERRORS",
    "ApprovalPanel",
    "Check",
    "InvalidParameter",
    "KernelWorker",
    "NotYet",
    "QUERY_TIMEOUT_SECONDS",
    "WebLink",
    "WorkerStopped",
    "approval_panel",
    "check_parameters",
    "connect_and_show",
    "enable_seed_snippets",
    "environment_checks",
    "explain_approval",
    "install_error_display",
    "kernel_worker",
    "new_order_id",
    "print_checks",
    "self_check",
    "server_checks",
    "show_code",
    "signal_from_terminal_later",
    "start_worker",
    "stop_worker",
    "temporal_cli",
    "temporal_command",
    "terminate_if_running",
    "time_allowed",
    "watch_status",
    "web_ui_link",
    "workflow_link",
    "mistake_expected",
    "replay_line",
    "side_by_side",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` when a cell first asks for it (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
