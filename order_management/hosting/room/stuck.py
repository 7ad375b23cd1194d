"""Reading an attendee's Temporal for the instructor's view: where they are, what is stuck.

Two ways a running workflow stays stuck until the learner acts: its workflow task keeps
failing (a bug in workflow code, an unknown workflow type: the server retries it forever), or
it waits for a task (workflow or activity) on a task queue that no worker polls. Both are
read from `describe()` and `DescribeTaskQueue`, as the Web UI shows them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from order_management.progress.workflow import PROGRESS_MEMO, PROGRESS_WORKFLOW_ID

# A workflow task that failed this many times in a row will not pass on its own.
FAILING_ATTEMPTS = 2
RPC_TIMEOUT = timedelta(seconds=3)
# The server lists a worker among a queue's pollers for minutes after it stopped; a running
# one polls again at least every long poll (about a minute), so one silent longer is gone.
POLLER_GONE = timedelta(seconds=75)


async def progress_memo(client: Client) -> dict[str, Any] | None:
    """The learner's progress as their progress workflow last wrote it to its memo."""
    try:
        description = await client.get_workflow_handle(PROGRESS_WORKFLOW_ID).describe(
            rpc_timeout=RPC_TIMEOUT
        )
    except Exception:  # no progress recorded yet
        return None
    return (await description.memo()).get(PROGRESS_MEMO)


async def why_stuck(client: Client, workflow_id: str, task_queue: str) -> str | None:
    """Why a running workflow will not move on by itself, in one line; None if it can."""
    description = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=RPC_TIMEOUT)
    raw = description.raw_description
    task = raw.pending_workflow_task
    if raw.HasField("pending_workflow_task") and task.attempt >= FAILING_ATTEMPTS:
        return f"{workflow_id}: its workflow task keeps failing (attempt {task.attempt})"
    waiting = raw.HasField("pending_workflow_task") or any(
        activity.attempt >= 1 and not activity.HasField("last_started_time")
        for activity in raw.pending_activities
    )
    if waiting and not await _polled(client, task_queue):
        return f"{workflow_id}: waits for a worker on task queue {task_queue!r}, and none runs"
    return None


async def _polled(client: Client, task_queue: str) -> bool:
    """True when a worker polls `task_queue` for workflow or activity tasks."""
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=kind,
            ),
            timeout=RPC_TIMEOUT,
        )
        now = datetime.now(timezone.utc)
        if any(
            now - poller.last_access_time.ToDatetime(timezone.utc) < POLLER_GONE
            for poller in answer.pollers
        ):
            return True
    return False
