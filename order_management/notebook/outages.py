"""Outages on purpose: what the durability notebook does to workers and the server, and how
a waiting order looks from the server's side.

While no worker runs, a workflow cannot answer queries (queries run in workers), but the
server still knows everything it recorded: the workflow is running, and an activity is
scheduled (waiting for a worker) or started (by a worker that may since have died). That
is what `pending_activities` reads, so it works during an outage.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import PendingActivityState, PendingWorkflowTaskState
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.service import RPCError

from order_management.deadline import Deadline
from order_management.local import config, devserver
from order_management.notebook.kernel_worker import kernel_worker
from order_management.notebook.worker_process import WorkerProcess
from order_management.orders import OrderError

if TYPE_CHECKING:
    import pandas as pd

POLL_SECONDS = 0.1
DOWN_PROBE_SECONDS = 2.0
RECONNECT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PendingActivity:
    """An activity the server has scheduled and not yet seen finish."""

    activity: str
    state: str
    """"scheduled" (waiting for a worker to take it) or "started" (a worker took it)."""
    attempt: int
    worker: str
    """The identity of the last worker that took it (pid@host), "" if none yet."""
    last_started: datetime | None
    """When the current attempt started (None while it waits for a worker)."""
    last_failure: str | None
    last_heartbeat: datetime | None
    """When the server last heard a heartbeat of it (None if it never heartbeated)."""
    heartbeat_details: list[Any]
    """What that heartbeat carried (a long activity's progress); the next attempt gets it."""

    @property
    def progress(self) -> int:
        """The first heartbeat detail as a count of work done (0 if it is no number)."""
        first = self.heartbeat_details[0] if self.heartbeat_details else 0
        return first if isinstance(first, int) else 0


async def pending_activities(handle: WorkflowHandle) -> list[PendingActivity]:
    """The order's pending activities, as the server records them (no worker needed)."""
    description = (await handle.describe()).raw_description
    return [
        PendingActivity(
            activity=pending.activity_type.name,
            state=PendingActivityState.Name(pending.state)
            .removeprefix("PENDING_ACTIVITY_STATE_")
            .lower(),
            attempt=pending.attempt,
            worker=pending.last_worker_identity,
            last_started=_moment(pending.last_started_time),
            last_failure=pending.last_failure.message if pending.HasField("last_failure") else None,
            last_heartbeat=_moment(pending.last_heartbeat_time),
            heartbeat_details=DataConverter.default.payload_converter.from_payloads(
                pending.heartbeat_details.payloads
            ),
        )
        for pending in description.pending_activities
    ]


def _moment(timestamp: Timestamp) -> datetime | None:
    """A server time in UTC; None for an unset one (the server sends 0 for "never")."""
    if not timestamp.seconds and not timestamp.nanos:
        return None
    return timestamp.ToDatetime(tzinfo=timezone.utc)


async def pending_frame(handle: WorkflowHandle) -> pd.DataFrame:
    """`pending_activities` as a table, one row per activity."""
    import pandas as pd

    columns = list(PendingActivity.__dataclass_fields__)
    return pd.DataFrame([vars(p) for p in await pending_activities(handle)], columns=columns)


async def wait_for_activity(
    handle: WorkflowHandle,
    activity: str,
    state: str = "started",
    timeout: float = 30.0,
    *,
    attempt: int = 1,
    progress: int = 0,
) -> PendingActivity:
    """Wait until `activity` is pending in `state`, so an outage hits it mid-flight; with
    `attempt`, until that attempt (or a later one) is; with `progress`, until a heartbeat
    has reported at least that much work done."""
    deadline = Deadline(timeout)
    seen: list[PendingActivity] = []
    while not deadline.passed:
        seen = await pending_activities(handle)
        for pending in seen:
            if (
                pending.activity == activity
                and pending.state == state
                and pending.attempt >= attempt
                and pending.progress >= progress
            ):
                return pending
        await asyncio.sleep(POLL_SECONDS)
    wanted = (
        activity
        + (f" attempt {attempt}" if attempt > 1 else "")
        + (f" with progress {progress}" if progress else "")
    )
    raise TimeoutError(
        f"{wanted} was not {state} in {handle.id} within {timeout:g} s "
        f"({_pending_now(seen)}; {await _workflow_task(handle)}); "
        "is a worker running, and does the order have a mock delay?"
    )


def _pending_now(seen: list[PendingActivity]) -> str:
    if not seen:
        return "no activity pending"
    return "pending: " + ", ".join(f"{p.activity} {p.state}, attempt {p.attempt}" for p in seen)


async def _workflow_task(handle: WorkflowHandle) -> str:
    """Where the order's workflow task is: one waiting for a worker, or taken by one that has
    not answered (it is given to another worker after the workflow task timeout)."""
    description = (await handle.describe()).raw_description
    if not description.HasField("pending_workflow_task"):
        return "no workflow task pending"
    task = description.pending_workflow_task
    state = PendingWorkflowTaskState.Name(task.state).removeprefix("PENDING_WORKFLOW_TASK_STATE_")
    return f"its workflow task {state.lower()}, attempt {task.attempt}"


async def kill_during(
    process: WorkerProcess,
    handle: WorkflowHandle,
    activity: str,
    timeout: float = 30.0,
    *,
    progress: int = 0,
) -> PendingActivity:
    """Wait until `activity` runs in the worker `process` (and, with `progress`, until its
    heartbeats have reported that much work done), then SIGKILL that process.

    Refuses (with `OrderError`, before killing anything) when the process no longer runs or
    another worker took the activity: then killing it would prove nothing."""
    if not process.alive:
        raise OrderError(
            f"The worker process {process.identity} is not running any more "
            "(killed already?); run the cell that starts it, then this one"
        )
    running = await wait_for_activity(handle, activity, timeout=timeout, progress=progress)
    if running.worker != process.identity:
        raise OrderError(
            f"{activity} of {handle.id} runs on worker {running.worker}, not in the "
            f"worker process {process.identity}: another worker polls the same "
            "task queue. Run `await stop_worker()`, then this cell again"
        )
    process.kill()
    return running


async def client_reaches_server(client: Client, timeout: float = DOWN_PROBE_SECONDS) -> bool:
    """True when the server answers this client within `timeout` seconds (a health check)."""
    try:
        return await asyncio.wait_for(client.service_client.check_health(), timeout)
    except (asyncio.TimeoutError, RPCError):
        return False


async def restart_dev_server(client: Client, timeout: float = RECONNECT_TIMEOUT_SECONDS) -> bool:
    """Stop and start the local dev server, only if this workshop started it; returns whether
    it did. The kernel's worker is stopped first and started again after, if it ran."""
    settings = config.temporal_settings()
    server = devserver.running(settings.port) if settings.is_local else None
    if server is None:
        print(
            f"Skipped: the Temporal server at {settings.address} was not started by this "
            "workshop (make server, make lab or a notebook), so this notebook leaves it alone. "
            "Restart it yourself to see the same thing."
        )
        return False
    worker_was_running = kernel_worker.running
    # The worker would reconnect by itself, but while the server is down its pollers log
    # a retry warning every few seconds; a clean stop keeps the demo readable.
    await kernel_worker.stop()
    try:
        await _stop_and_start(client, settings, server, timeout)
    except BaseException:  # the cell interrupted half-way (KeyboardInterrupt), or a failure
        _bring_back(settings)
        if worker_was_running:
            await kernel_worker.start(client)
        raise
    if worker_was_running:
        await kernel_worker.start(client)
        print("5. Started this kernel's worker again: it polls the restarted server.")
    return True


async def _stop_and_start(
    client: Client, settings: config.TemporalSettings, server: devserver.DevServer, timeout: float
) -> None:
    # Stop and start run in this thread, not a worker thread: an interrupted cell must not
    # leave one going on in the background while `_bring_back` repairs things.
    devserver.stop(settings.port)
    print(f"1. Stopped the dev server (pid {server.pid}).")
    answers = await client_reaches_server(client)
    print(
        f"2. The client gets {'an answer?!' if answers else 'no answer'} from "
        f"{settings.address} while the server is down."
    )
    started = devserver.start(settings.port, settings.namespace)
    print(f"3. Started it again (pid {started.pid}) on the same database, {started.database}.")
    deadline = Deadline(timeout)
    while not await client_reaches_server(client):
        if deadline.passed:
            raise TimeoutError(
                f"The client did not reach the restarted server within "
                f"{timeout:g} s; see {started.log}"
            )
    print("4. The same client object reconnected by itself: no new connect() needed.")


def _bring_back(settings: config.TemporalSettings) -> None:
    """After a restart that did not finish: the server runs again (stopped first, in case
    it was half-way down), so the rest of the notebook still has one."""
    devserver.stop(settings.port)
    started = devserver.start(settings.port, settings.namespace)
    print(
        f"The restart did not finish: the dev server runs again (pid {started.pid}), and so "
        "does this kernel's worker if it ran before."
    )
