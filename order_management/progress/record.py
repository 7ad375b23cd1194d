"""The learner's progress from a notebook kernel: its worker, the signals, the query.

The kernel runs a small worker of its own for the progress workflow, on a task queue of its own
(`PROGRESS_TASK_QUEUE`) and in a thread of its own: notebook 04 stops the orders' worker on
purpose, and progress goes on being recorded meanwhile, out of the lesson's way. The notebook
layer's hooks are synchronous (a self-check, the error display, a notebook's last cell run),
so `exercise_passed`, `error_seen`, `notebook_opened` and `notebook_finished` send their
signal in the background and never raise: progress is never worth a learner's traceback.
Each is a signal-with-start, so the first one creates the workflow.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from order_management.deadline import ANSWER_TIMEOUT_SECONDS
from order_management.local import config
from order_management.progress.workflow import (
    PROGRESS_MEMO,
    PROGRESS_TASK_QUEUE,
    PROGRESS_WORKFLOW_ID,
    ErrorSeen,
    ExercisePassed,
    LearnerProgress,
    Progress,
)

WORKER_START_SECONDS = 30.0
SESSION_VARIABLE = "JPY_SESSION_NAME"
"""Jupyter tells a kernel the path of its notebook in this variable."""


class _Recorder:
    """This kernel's client for the signals, its progress worker, and the signals on their way."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self.worker: Worker | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.sending: set[asyncio.Task[None]] = set()


_recorder = _Recorder()


def progress_worker(client: Client) -> Worker:
    """A worker for the progress workflow alone (not started yet)."""
    return Worker(client, task_queue=PROGRESS_TASK_QUEUE, workflows=[LearnerProgress])


async def start_progress_worker(client: Client) -> None:
    """Run this kernel's progress worker, once; later calls only switch to `client` for the
    signals. The worker runs in a thread with an event loop of its own: the kernel's loop, its
    tasks and its "does a worker run here?" (the error hints) stay the lesson's alone."""
    _recorder.client = client
    if _recorder.thread is None or not _recorder.thread.is_alive():
        ready = threading.Event()
        _recorder.thread = threading.Thread(
            target=lambda: asyncio.run(_serve(ready)), name="learner-progress", daemon=True
        )
        _recorder.thread.start()
        await asyncio.to_thread(ready.wait, WORKER_START_SECONDS)


async def _serve(ready: threading.Event) -> None:
    try:
        settings = config.temporal_settings()
        client = await Client.connect(
            settings.address, namespace=settings.namespace, **settings.connect_options
        )
        _recorder.loop, _recorder.worker = asyncio.get_running_loop(), progress_worker(client)
        ready.set()
        await _recorder.worker.run()
    except (RuntimeError, RPCError, OSError, config.ConfigurationError):
        pass  # no server, no namespace: signals wait in the history for the next worker
    finally:
        ready.set()


async def kernel_connected(client: Client) -> None:
    """The hook for a notebook's first connection (`connect_and_show`): this kernel's progress
    worker runs, and the notebook is recorded as opened before the cell returns."""
    try:
        await start_progress_worker(client)
        notebook = current_notebook()
        if notebook:
            await send(client, "notebook_opened", notebook)
    except (RPCError, RuntimeError, TimeoutError):
        pass  # progress is never worth a learner's traceback


async def stop_progress_worker() -> None:
    """Stop this kernel's progress worker and wait for its thread (tests)."""
    thread = _recorder.thread
    if shut_down_progress_worker() is None or thread is None:
        return
    await asyncio.to_thread(thread.join, WORKER_START_SECONDS)
    _recorder.thread = _recorder.worker = _recorder.loop = None


def shut_down_progress_worker() -> Future[None] | None:
    """Begin the progress worker's shutdown, from any thread (Jupyter shuts kernels down from
    its control thread); the future is done once the worker has shut down."""
    worker, loop = _recorder.worker, _recorder.loop
    if worker is None or loop is None or loop.is_closed():
        return None
    return asyncio.run_coroutine_threadsafe(worker.shutdown(), loop)


def current_notebook() -> str | None:
    """The notebook this kernel runs, without .ipynb (as the agenda names it), if Jupyter
    said."""
    path = notebook_path()
    return path.stem if path else None


def notebook_path() -> Path | None:
    """The file of the notebook this kernel runs, if Jupyter said. JupyterLab's sessions name
    it by its absolute path (jupyter_server joins the notebook's folder and its name); a
    session given a path alone names it from Jupyter's root, and then the kernel runs in the
    notebook's folder, where its name finds it."""
    path = os.environ.get(SESSION_VARIABLE)
    if not path:
        return None
    return Path(path) if Path(path).is_absolute() else Path(Path(path).name)


async def send(client: Client, signal: str, argument: Any) -> None:
    """Signal the learner's progress workflow, starting it first if need be."""
    await client.start_workflow(
        LearnerProgress.run,
        id=PROGRESS_WORKFLOW_ID,
        task_queue=PROGRESS_TASK_QUEUE,
        start_signal=signal,
        start_signal_args=[argument],
    )


def notebook_opened(notebook: str | None = None) -> None:
    _in_background("notebook_opened", notebook or current_notebook())


def notebook_finished(notebook: str | None = None) -> None:
    _in_background("notebook_finished", notebook or current_notebook())


def exercise_passed(task: str, notebook: str | None = None) -> None:
    notebook = notebook or current_notebook()
    if notebook:
        _in_background("exercise_passed", ExercisePassed(notebook, task))


def error_seen(line: str, notebook: str | None = None) -> None:
    notebook = notebook or current_notebook()
    if notebook:
        _in_background("error_seen", ErrorSeen(notebook, line))


def _in_background(signal: str, argument: Any) -> None:
    if argument is None:  # not a notebook's kernel: nothing to record
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no event loop (a plain script): nothing to record into
        return
    task = loop.create_task(_send_quietly(signal, argument))
    _recorder.sending.add(task)
    task.add_done_callback(_recorder.sending.discard)


async def _send_quietly(signal: str, argument: Any) -> None:
    try:
        client = _recorder.client
        if client is None:
            settings = config.temporal_settings()
            client = await Client.connect(
                settings.address, namespace=settings.namespace, **settings.connect_options
            )
            # A notebook that never connects (05) runs the worker that applies its signals too.
            await start_progress_worker(client)
        await send(client, signal, argument)
    except (RPCError, RuntimeError, OSError, config.ConfigurationError):
        pass  # no server now: this step goes unrecorded, the next one will be


async def flush() -> None:
    """Wait until the signals sent in the background have arrived (tests, the table)."""
    while _recorder.sending:
        await asyncio.gather(*_recorder.sending, return_exceptions=True)


async def read_progress(client: Client) -> Progress:
    """The learner's progress, by query (a worker runs it: this kernel's); empty if none yet."""
    await flush()
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(PROGRESS_WORKFLOW_ID)
    try:
        return await asyncio.wait_for(
            handle.query(LearnerProgress.progress), ANSWER_TIMEOUT_SECONDS
        )
    except RPCError as err:
        if "not found" in err.message.lower():
            return Progress()
        raise


async def memo_progress(client: Client) -> dict[str, Any] | None:
    """The progress as last written to the workflow's memo: no worker needed."""
    try:
        description = await client.get_workflow_handle(PROGRESS_WORKFLOW_ID).describe()
    except RPCError:
        return None
    memo = await description.memo()
    return memo.get(PROGRESS_MEMO)
