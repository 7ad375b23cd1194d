"""A worker in a process of its own, started and killed from a notebook or a test.

`python -m order_management.worker` is exactly what runs on a production machine. Running it
as a child process lets the workshop do what happens to real machines: kill it with SIGKILL
in the middle of an activity, with no chance to clean up, and watch Temporal recover the
order on another worker.

    worker = WorkerProcess.start()    # returns once it polls the task queue
    worker.kill()                     # SIGKILL: no goodbye to the server
    worker.stop()                     # or SIGTERM: a graceful shutdown

A notebook asks for its one worker process with `running_worker_process()` instead: a cell
run twice gets the same process, never a second one.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from order_management.deadline import Deadline
from order_management.errors import WorkshopError
from order_management.local import config
from order_management.local.proc import start_logging_to
from order_management.worker import PARENT_PID_ENV

READY_LINE = "Worker ready and polling task queue"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class WorkerProcessError(WorkshopError, RuntimeError):
    """The worker process did not start; the message says why and where its log is."""


@dataclass
class WorkerProcess:
    """One `python -m order_management.worker` child process."""

    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def identity(self) -> str:
        """The worker identity Temporal records (the SDK's default: pid@host)."""
        return f"{self.pid}@{socket.gethostname()}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @classmethod
    def start(
        cls, task_queue: str | None = None, timeout: float = START_TIMEOUT_SECONDS
    ) -> WorkerProcess:
        """Start a worker process (same Temporal settings and ledger as this one) and return
        once it polls the task queue."""
        command = [sys.executable, "-m", "order_management.worker"]
        if task_queue:
            command += ["--task-queue", task_queue]
        state = config.state_dir()
        state.mkdir(parents=True, exist_ok=True)
        log = state / f"worker-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.log"
        # Unbuffered, so the ready line reaches the log the moment it is printed.
        process = start_logging_to(
            log,
            command,
            env={**os.environ, "PYTHONUNBUFFERED": "1", PARENT_PID_ENV: str(os.getpid())},
        )
        worker = cls(process, log)
        # Never leave a worker behind, even when a cell fails before it is stopped.
        atexit.register(worker.stop)
        worker._wait_until_ready(timeout)
        return worker

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = Deadline(timeout)
        while READY_LINE not in self.output():
            if not self.alive:
                raise WorkerProcessError(
                    f"The worker process exited at start: {self.last_line()} (log: {self.log})"
                )
            if deadline.passed:
                self.stop()
                raise WorkerProcessError(
                    f"The worker process did not poll within {timeout:g} s (log: {self.log})"
                )
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def last_line(self) -> str:
        lines = self.output().strip().splitlines()
        return lines[-1] if lines else "(no output)"

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-activity, without telling the server."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT_SECONDS)
        atexit.unregister(self.stop)

    def stop(self) -> None:
        """SIGTERM: a graceful shutdown (running activities are cancelled and reported);
        SIGKILL if it takes longer than STOP_TIMEOUT_SECONDS."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
        atexit.unregister(self.stop)


_kernel_process: WorkerProcess | None = None
"""The worker process `running_worker_process` started last in this program."""


def running_worker_process(task_queue: str | None = None) -> WorkerProcess:
    """This program's worker process: the one started here before if it still runs, else a
    new one. A notebook cell run twice never leaves two, and one run after a kill starts
    another."""
    global _kernel_process
    if _kernel_process is None or not _kernel_process.alive:
        _kernel_process = WorkerProcess.start(task_queue)
    return _kernel_process


def stop_worker_process() -> None:
    """Stop the worker process `running_worker_process` started, if it still runs."""
    if _kernel_process is not None and _kernel_process.alive:
        _kernel_process.stop()
        print(f"Stopped the worker process {_kernel_process.identity} (it was still polling).")
