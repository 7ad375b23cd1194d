"""Worker logs, one line each, as a learner sees them: in a worker's terminal, and in the
notebook cell that runs while the in-kernel worker hears something.

- A genuine bug in workflow code stays visible: one line naming the workflow, the error and
  where to look, and for the sandbox's refusals and a nondeterminism error, what to use
  instead.
- Bad signals from a terminal show in the running cell as one line each, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from order_management.local import config, devserver
from order_management.local.logs import MAX_LINE
from tests.helpers.notebooks import output_text
from tests.helpers.servers import BIN, REPO, RunningServer

ANSI = re.compile(r"\x1b\[")
CELL_TIMEOUT_SECONDS = 60

WAIT_SECONDS = 30.0

# A learner's workflow with the mistakes the sandbox exists for, and a plain bug.
LEARNER_WORKFLOW = """\
from datetime import datetime, timedelta

from temporalio import workflow


@workflow.defn
class LearnerWorkflow:
    @workflow.run
    async def run(self, mistake: str) -> str:
        if mistake == "clock":
            return str(datetime.now())
        if mistake == "dice":
            import random
            return str(random.random())
        if mistake == "file":
            return open("notes.txt").read()
        if mistake == "typo":
            return {}["totl"]
        await workflow.sleep(timedelta(seconds=1))
        return mistake
"""
# The same workflow after an edit that orders already running cannot replay.
LEARNER_WORKFLOW_EDITED = """\
from datetime import timedelta

from temporalio import workflow


@workflow.defn
class LearnerWorkflow:
    @workflow.run
    async def run(self, mistake: str) -> str:
        await workflow.execute_activity("audit", start_to_close_timeout=timedelta(seconds=5))
        return mistake
"""
# A worker process for it, connected as every worker here is: through connect().
WORKER_PROGRAM = """\
import asyncio, sys
from order_management.local.connection import connect
from order_management.worker import build_worker
import learner

async def main():
    client = await connect()
    await build_worker(client, sys.argv[1], workflows=[learner.LearnerWorkflow],
                       activities=[]).run()

asyncio.run(main())
"""


@dataclass
class LearnerWorker:
    """A worker process running one version of learner.py, and its output."""

    process: subprocess.Popen[bytes]
    output: Path
    task_queue: str

    @classmethod
    def start(cls, folder: Path, source: str, task_queue: str) -> LearnerWorker:
        folder.mkdir(parents=True)
        (folder / "learner.py").write_text(source)
        output = folder / "worker.log"
        with open(output, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", WORKER_PROGRAM, task_queue],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return cls(process, output, task_queue)

    def kill(self) -> None:
        """SIGKILL, as when a laptop's lid closes."""
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def learner_worker(
    dev_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LearnerWorker]:
    worker = LearnerWorker.start(
        tmp_path_factory.mktemp("learner") / "mistakes",
        LEARNER_WORKFLOW,
        f"learner-{uuid.uuid4().hex[:8]}",
    )
    try:
        yield worker
    finally:
        worker.kill()


async def failed_task(handle: WorkflowHandle) -> None:
    """Wait until the workflow has a failed workflow task: its worker has logged it."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not any(
        event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        for event in (await handle.fetch_history()).events
    ):
        assert asyncio.get_running_loop().time() < deadline, f"{handle.id} never failed a task"
        await asyncio.sleep(0.1)


async def lines_naming(output: Path, text: str) -> list[str]:
    """The output's lines that contain `text`, once there is one (the log is written as the
    worker completes the task, a moment before the server records it)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not (found := [line for line in output.read_text().splitlines() if text in line]):
        assert asyncio.get_running_loop().time() < deadline, output.read_text()
        await asyncio.sleep(0.1)
    return found


def assert_one_readable_line_each(output: Path) -> None:
    text = output.read_text()
    assert "Traceback" not in text and not ANSI.search(text), text
    assert all(len(line) <= MAX_LINE for line in text.splitlines()), text


@pytest.mark.parametrize(
    ("mistake", "says"),
    [
        (
            "clock",
            "the sandbox refused datetime.datetime.now (at learner.py:11 in run); workflow "
            "code must replay the same way every time: use workflow.now() instead",
        ),
        (
            "dice",
            "the sandbox refused random.random (at learner.py:14 in run); workflow code must "
            "replay the same way every time: use workflow.random() instead",
        ),
        (
            "file",
            "the sandbox refused open (at learner.py:16 in run); workflow code must replay "
            "the same way every time: do it in an activity",
        ),
        ("typo", "KeyError: 'totl' (at learner.py:18 in run)"),
    ],
)
async def test_a_bug_in_workflow_code_is_one_line_naming_the_workflow_and_where_to_look(
    mistake: str, says: str, dev_client: Client, learner_worker: LearnerWorker
) -> None:
    handle = await dev_client.start_workflow(
        "LearnerWorkflow",
        mistake,
        id=f"{mistake}-{learner_worker.task_queue}",
        task_queue=learner_worker.task_queue,
    )
    await failed_task(handle)
    lines = await lines_naming(learner_worker.output, handle.id)
    assert lines[0].startswith(f"LearnerWorkflow {handle.id}: workflow task failed: {says}")
    assert lines[0].endswith(
        ". The workflow waits and Temporal retries the task: see the "
        "pending workflow task in the Web UI: "
        f"{config.temporal_settings().workflow_url(handle.id)}"
    )
    assert set(lines) == {lines[0]}  # a retry repeats the same line, nothing more
    assert_one_readable_line_each(learner_worker.output)


async def test_an_edit_that_breaks_replay_is_one_line_saying_to_use_workflow_patched(
    dev_client: Client, task_queue: str, tmp_path: Path
) -> None:
    before = LearnerWorker.start(tmp_path / "before", LEARNER_WORKFLOW, task_queue)
    try:
        handle = await dev_client.start_workflow(
            "LearnerWorkflow", "nap", id=f"edited-{task_queue}", task_queue=task_queue
        )
        while not any(
            event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
            for event in (await handle.fetch_history()).events
        ):
            await asyncio.sleep(0.1)
    finally:
        before.kill()
    after = LearnerWorker.start(tmp_path / "after", LEARNER_WORKFLOW_EDITED, task_queue)
    try:  # the nap ends: the edited code replays the history, and cannot match it
        await failed_task(handle)
        run_id = (await handle.describe()).run_id
        [line] = await lines_naming(after.output, run_id)
    finally:
        after.kill()
    assert line.startswith(
        f"Workflow run {run_id}: workflow task failed: [TMPRL1100] Nondeterminism error: "
    )
    assert (
        "the workflow code changed in a way this workflow's history does not match: guard "
        "the change with workflow.patched(...)"
    ) in line
    assert_one_readable_line_each(after.output)


SETUP = """\
from order_management.local.connection import connect
from order_management.orders import place_order
from order_management.shared import make_order
from order_management.worker import build_worker, start_polling
from order_management.workflow import OrderWorkflow

client = await connect()
polling = await start_polling(build_worker(client, {task_queue!r}))
handle = await place_order(client, make_order(1500, {order_id!r}), {task_queue!r})
while await handle.query(OrderWorkflow.get_status) != "awaiting_approval":
    await asyncio.sleep(0.05)
print("waiting for approval:", handle.id)
"""
# The cell that runs while the signals arrive: it waits until the order has heard them.
WAIT_FOR_SIGNALS = """\
while len((await handle.query(OrderWorkflow.get_progress)).ignored_messages) < {count}:
    await asyncio.sleep(0.05)
await asyncio.sleep(1)  # time for anything else the worker would print
print("status:", await handle.query(OrderWorkflow.get_status))
"""


async def test_bad_signals_from_a_terminal_show_as_one_line_in_the_running_cell(
    dev_server: RunningServer, task_queue: str, order_id: str
) -> None:
    signals = [(), ("--input", '"yes"')]
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import asyncio"),
            nbformat.v4.new_code_cell(SETUP.format(task_queue=task_queue, order_id=order_id)),
            nbformat.v4.new_code_cell(WAIT_FOR_SIGNALS.format(count=len(signals))),
        ]
    )
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO)}},
    )
    async with client.async_setup_kernel(env=env):
        for index in (0, 1):
            await client.async_execute_cell(nb.cells[index], index)
        waiting = asyncio.create_task(client.async_execute_cell(nb.cells[2], 2))
        for input_args in signals:  # typed in a terminal, while the cell runs
            await _temporal_signal(dev_server, f"order-workflow-{order_id}", input_args)
        await waiting

    last = output_text(nb.cells[2])
    about_it = [line for line in last.splitlines() if "approve_order" in line]
    assert about_it == [
        f"OrderWorkflow order-workflow-{order_id}: approve_order() ignored: approve_order "
        "takes true or false",
        f'OrderWorkflow order-workflow-{order_id}: approve_order("yes") ignored: '
        "approve_order takes true or false",
    ], last  # one line for each of the two signals
    assert "status: awaiting_approval" in last
    everything = "\n".join(output_text(cell) for cell in nb.cells)
    assert "Traceback" not in everything and not ANSI.search(everything), everything


async def _temporal_signal(
    server: RunningServer, workflow_id: str, input_args: tuple[str, ...]
) -> None:
    process = await asyncio.create_subprocess_exec(
        str(devserver.temporal_binary()),
        "workflow",
        "signal",
        "--workflow-id",
        workflow_id,
        "--name",
        "approve_order",
        *input_args,
        "--address",
        server.address,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, textwrap.indent(output.decode(), "  ")
