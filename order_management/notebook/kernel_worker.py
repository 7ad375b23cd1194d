"""The worker that runs inside the notebook's kernel, and the guards around the connection.

The cells make the calls a learner would write in their own program, `Client.connect(...)`
and `Worker(client, task_queue=..., workflows=[...], activities=[...])`. These helpers only
guard and display around them:

- `ensure_dev_server(settings)`: before `Client.connect`, start the local dev server when
  the address is this machine and nothing answers (a notebook run by nbclient too);
- `show_connection(client)`: where the client is connected, and the Web UI's address;
- `run_in_background(worker)`: a notebook kernel is a long-running asyncio program, so the
  cell's worker runs there as a background task. It keeps polling between cells (a signal
  sent from a terminal while no cell runs still completes the order). Running the cell again
  replaces the old worker: never two polling at once. When Jupyter shuts the kernel down
  (Restart, Shut Down, the end of an nbclient run), the worker stops first, as
  `stop_worker()` stops it, so the server knows it is gone.

`connect_and_show()` and `start_worker()` do both steps in one call, with the workshop's own
worker (`order_management.worker.build_worker`): the deep dives use them.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from concurrent.futures import Future, wait
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from order_management.errors import WorkshopError
from order_management.local import config
from order_management.local.connection import connect, ensure_local_server
from order_management.notebook.cell_errors import install_error_display
from order_management.progress import record as progress
from order_management.progress.finished import install_finished_hook
from order_management.sdk_internals import before_kernel_shutdown
from order_management.worker import build_worker, start_polling

SHUTDOWN_GRACE_SECONDS = 3.0
"""How long a kernel that Jupyter shuts down gives its workers to stop: less than the 5 s
Jupyter waits before it kills the kernel (jupyter_client's `shutdown_wait_time`)."""

_RESTART_HINT = "Run the cell that starts the worker again"


class WorkerStopped(WorkshopError, RuntimeError):
    """The in-kernel worker ended on its own (it crashed or was cancelled)."""


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
        self.loop: asyncio.AbstractEventLoop | None = None
        """The cells' event loop, where the worker runs."""
        self.problem: str | None = None
        """Why the worker ended on its own; None while it runs or after a normal stop."""

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self, client: Client, task_queue: str | None = None) -> Worker:
        """Run the workshop's own worker (`build_worker`) in place of the previous one."""
        await self.stop()  # first: the SDK refuses a second worker for a queue and client
        return await self.run(build_worker(client, task_queue))

    async def run(self, worker: Worker) -> Worker:
        """Run `worker` in the background, in place of the kernel's previous one."""
        await self.stop()
        try:
            self.task = await start_polling(worker)
        except (RuntimeError, TimeoutError) as err:  # the SDK's own errors, e.g. no namespace
            raise WorkerStopped(f"The worker could not start: {err}") from None
        self.task.add_done_callback(self._ended)
        self.worker, self.loop = worker, asyncio.get_running_loop()
        prepare_shell()
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

    def stop_soon(self) -> Future[None] | None:
        """Begin `stop()` from another thread; the future is done once the worker stopped."""
        if not self.running or self.loop is None or self.loop.is_closed():
            return None
        return asyncio.run_coroutine_threadsafe(self.stop(), self.loop)

    def raise_if_stopped(self) -> None:
        """Raise `WorkerStopped` if the worker ended on its own (not after stop())."""
        if self.problem:
            raise WorkerStopped(f"{self.problem}. {_RESTART_HINT}.")


kernel_worker = KernelWorker()


def prepare_shell() -> None:
    """In IPython: the one-line error display, a warning at the top of every cell while the
    worker is down, and the notebook recorded as opened now and as finished when its last cell
    succeeds."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to hook into
        return
    shell = get_ipython()
    if shell is None:
        return
    install_error_display(shell)
    install_finished_hook(shell)
    before_kernel_shutdown(shell, _stop_workers_before_shutdown)
    if _warn_if_worker_stopped not in shell.events.callbacks["pre_run_cell"]:
        shell.events.register("pre_run_cell", _warn_if_worker_stopped)
        # This kernel's first prepared cell: the learner is in this notebook, even one that
        # never connects to the dev server (05 tests against the time-skipping server).
        progress.notebook_opened()


def _stop_workers_before_shutdown() -> None:
    """Stop this kernel's workers when Jupyter shuts the kernel down, as `stop_worker()` does,
    rather than let them die with it. The server then hears they are gone: an activity one was
    running is cancelled and retried at once, not after its timeout, and no workflow task of
    another notebook's order (workers of several kernels poll one task queue) is left waiting
    out the workflow task timeout (10 s)."""
    if threading.current_thread() is threading.main_thread():
        return  # the cells' loop runs on this thread: waiting for it here would block it
    stopping = [kernel_worker.stop_soon(), progress.shut_down_progress_worker()]
    wait([future for future in stopping if future], timeout=SHUTDOWN_GRACE_SECONDS)


def _warn_if_worker_stopped(*_: Any) -> None:
    if kernel_worker.problem:
        print(f"Warning! {kernel_worker.problem}. {_RESTART_HINT}.", file=sys.stderr)


async def ensure_dev_server(settings: config.TemporalSettings | None = None) -> None:
    """Guard for the cell's `Client.connect`: start the local dev server if the address is
    this machine and nothing answers there (a remote Temporal is left alone)."""
    prepare_shell()
    await ensure_local_server(settings or config.temporal_settings())


def show_connection(client: Client) -> None:
    """Print where `client` is connected and where the Web UI is."""
    settings = config.temporal_settings()
    print(
        f"Connected to Temporal at {client.service_client.config.target_host}, "
        f"namespace {client.namespace!r}"
    )
    print(f"Web UI: {settings.ui_url}")


async def run_in_background(worker: Worker) -> None:
    """Run the cell's `worker` as a background task of this kernel (in place of the one a
    previous run of the cell started), once it polls. The learner's progress is recorded
    from here on (`order_management.progress`)."""
    _say_polling(await kernel_worker.run(worker))
    await progress.kernel_connected(worker.client)


async def connect_and_show() -> Client:
    """Connect (starting the local dev server if nothing answers) and print where to look."""
    prepare_shell()
    client = await connect()
    await progress.kernel_connected(client)
    show_connection(client)
    return client


async def start_worker(client: Client, task_queue: str | None = None) -> None:
    """Start (or restart) this kernel's worker, the workshop's own (`build_worker`)."""
    _say_polling(await kernel_worker.start(client, task_queue))


def _say_polling(worker: Worker) -> None:
    print(f"Worker polling task queue {worker.task_queue!r} in this kernel's background.")


async def stop_worker() -> None:
    """Stop this kernel's background worker, if one runs. A cell that builds a `Worker` calls
    this first when it may run again: the SDK refuses a second worker for the same task queue
    on the same client ("Registration of multiple workers ... not allowed")."""
    if kernel_worker.worker is not None:
        await kernel_worker.stop()
        print("Stopped this kernel's worker.")
