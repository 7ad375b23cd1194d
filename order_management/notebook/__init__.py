"""Notebook support: what a workshop cell needs besides the Temporal SDK itself.

The cells make the SDK calls (`client.start_workflow`, `handle.query`, `handle.signal`,
`handle.execute_update`, `handle.result`); these modules only run the kernel's worker,
display, chart, check and guard:

- kernel_worker: the cell's worker run in the kernel's background, guards around the connection
- cell_errors: how the kernel shows a learner's mistake (one line to act on, not a trace)
- code: the package's own source, highlighted, so a cell shows the code it exercises
- display: Web UI links, live status lines, how long a cell may wait
- parameters: the parameters cell's values, checked before anything starts
- exercises: "Your turn" self-checks, and the guards that run a learner's Temporal code
- exercise_runs: the checks that run a learner's Temporal code on a real worker (04, 05)
- widgets: the instructor's Approve / Reject buttons
- terminal: the `temporal` CLI, run from a cell as from a terminal
- preflight: the OK/FAIL lines of 00_setup
- learner_code: the deep dives' views of the learner's own code (changes as diffs, mistakes,
  replays, exercise checks)
- worker_process, outages: a worker in a process of its own, and outages on purpose (04)
- outcomes: what a workflow came to, in one line (the deep dives' self-checks)
- schedules: the ledger report schedule's runs as a table, and its delete (08)

Everything a notebook imports is importable from here, and imported when first asked for:
`from order_management.notebook import self_check` loads the module of `self_check` only, not
the widgets, charts or replays of other notebooks (every kernel pays for what it imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from order_management.deadline import ANSWER_TIMEOUT_SECONDS

# Every notebook connects and runs its worker through kernel_worker, so it is imported now.
from order_management.notebook.kernel_worker import (
    KernelWorker,
    WorkerStopped,
    connect_and_show,
    ensure_dev_server,
    run_in_background,
    show_connection,
    start_worker,
    stop_worker,
)

if TYPE_CHECKING:
    from order_management.notebook.cell_errors import (
        ONE_LINE_ERRORS,
        install_error_display,
    )
    from order_management.notebook.code import (
        show_code,
    )
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
    from order_management.notebook.exercises import (
        NotYet,
        confirmation_queue,
        gift_note_queue,
        self_check,
        try_confirmation,
        try_gift_note,
        try_retry_policy,
    )
    from order_management.notebook.learner_code import (
        answers_of,
        change_module,
        mistake_expected,
        replay_line,
        result_or_reason,
        side_by_side,
    )
    from order_management.notebook.outcomes import (
        outcome,
    )
    from order_management.notebook.parameters import (
        InvalidParameter,
        check_parameters,
    )
    from order_management.notebook.preflight import (
        Check,
        environment_checks,
        print_checks,
        server_checks,
    )
    from order_management.notebook.terminal import (
        print_signal_command,
        signal_from_terminal_later,
        temporal_cli,
        temporal_command,
    )
    from order_management.notebook.widgets import (
        ApprovalPanel,
        approval_panel,
    )

# Each name, and the module of this package that defines it.
_HOMES: dict[str, str] = {
    "ONE_LINE_ERRORS": "cell_errors",
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
    "confirmation_queue": "exercises",
    "gift_note_queue": "exercises",
    "self_check": "exercises",
    "try_confirmation": "exercises",
    "try_gift_note": "exercises",
    "try_retry_policy": "exercises",
    "answers_of": "learner_code",
    "change_module": "learner_code",
    "mistake_expected": "learner_code",
    "replay_line": "learner_code",
    "result_or_reason": "learner_code",
    "side_by_side": "learner_code",
    "outcome": "outcomes",
    "InvalidParameter": "parameters",
    "check_parameters": "parameters",
    "Check": "preflight",
    "environment_checks": "preflight",
    "print_checks": "preflight",
    "server_checks": "preflight",
    "print_signal_command": "terminal",
    "signal_from_terminal_later": "terminal",
    "temporal_cli": "terminal",
    "temporal_command": "terminal",
    "ApprovalPanel": "widgets",
    "approval_panel": "widgets",
}

__all__ = [
    "ONE_LINE_ERRORS",
    "ApprovalPanel",
    "Check",
    "InvalidParameter",
    "KernelWorker",
    "NotYet",
    "ANSWER_TIMEOUT_SECONDS",
    "WebLink",
    "WorkerStopped",
    "approval_panel",
    "check_parameters",
    "confirmation_queue",
    "connect_and_show",
    "ensure_dev_server",
    "gift_note_queue",
    "run_in_background",
    "show_connection",
    "try_confirmation",
    "try_gift_note",
    "try_retry_policy",
    "environment_checks",
    "explain_approval",
    "install_error_display",
    "new_order_id",
    "print_checks",
    "print_signal_command",
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
    "answers_of",
    "change_module",
    "mistake_expected",
    "outcome",
    "result_or_reason",
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
