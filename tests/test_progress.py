"""The learner's progress workflow on a real dev server: signals are recorded, a query reads
them, continue-as-new keeps the state while it shortens the history, and a new worker (a
restarted kernel) finds everything where the last one left it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import nbformat
import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from order_management.deadline import Deadline
from order_management.progress import record
from order_management.progress.finished import last_code_cell_id
from order_management.progress.table import progress_frame
from order_management.progress.workflow import (
    MAX_HISTORY_EVENTS,
    PROGRESS_TASK_QUEUE,
    PROGRESS_WORKFLOW_ID,
    ExercisePassed,
    LearnerProgress,
    Progress,
)
from order_management.worker import polling

SETTLE_SECONDS = 20
SIGNALS = MAX_HISTORY_EVENTS + 10


@pytest.fixture
async def fresh(dev_client: Client) -> AsyncIterator[WorkflowHandle]:
    """No progress workflow before the test, none after it."""
    handle = dev_client.get_workflow_handle(PROGRESS_WORKFLOW_ID)
    for _ in range(2):
        try:
            await handle.terminate("a test starts afresh")
        except RPCError:
            pass
    yield handle
    await record.stop_progress_worker()
    try:
        await handle.terminate("the test is over")
    except RPCError:
        pass


async def progress_of(handle: WorkflowHandle) -> Progress:
    return await handle.query(LearnerProgress.progress)


async def test_signals_are_recorded_and_a_query_reads_them(
    dev_client: Client, fresh: WorkflowHandle
) -> None:
    async with polling(record.progress_worker(dev_client)):
        await record.send(dev_client, "notebook_opened", "01_first_order")
        await record.send(
            dev_client, "exercise_passed", ExercisePassed("01_first_order", "count the events")
        )
        await record.send(dev_client, "notebook_finished", "01_first_order")
        await record.send(dev_client, "notebook_opened", "02_human_approval")
        progress = await progress_of(fresh)
    assert progress.opened == ["01_first_order", "02_human_approval"]
    assert progress.finished == ["01_first_order"]
    assert progress.passed == {"01_first_order": ["count the events"]}
    assert progress.current == "02_human_approval"
    table = progress_frame(progress)
    assert table.loc["01_first_order", "exercises passed"] == 1
    assert table.loc["01_first_order", "finished"] == "✓"


async def test_the_hooks_record_from_a_kernel_without_raising(
    dev_client: Client, fresh: WorkflowHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(record.SESSION_VARIABLE, "notebooks/03_failures_and_compensation.ipynb")
    await record.kernel_connected(dev_client)
    record.exercise_passed("refund the payment")
    record.error_seen("ActivityError: the payment service is down")
    progress = await record.read_progress(dev_client)
    assert progress.current == "03_failures_and_compensation"
    assert progress.passed == {"03_failures_and_compensation": ["refund the payment"]}
    assert progress.last_error == "ActivityError: the payment service is down"
    # The memo carries the same, for a reader without a worker (the instructor's view).
    memo = await record.memo_progress(dev_client)
    assert memo is not None and memo["last_error"] == progress.last_error


async def test_continue_as_new_keeps_the_state_and_shortens_the_history(
    dev_client: Client, fresh: WorkflowHandle
) -> None:
    async with polling(record.progress_worker(dev_client)):
        await record.send(dev_client, "notebook_opened", "00_setup")
        first_run = (await fresh.describe()).run_id
        # Every signal adds at least its own event to the history: this many pass the limit
        # (the workflow continues as new at least once).
        for number in range(SIGNALS):
            await record.send(
                dev_client, "exercise_passed", ExercisePassed("05_testing_workflows", f"t{number}")
            )
        progress = await all_recorded(fresh, "05_testing_workflows", SIGNALS)
        description = await fresh.describe()
        history = await fresh.fetch_history()
    assert description.run_id != first_run
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert len(history.events) < MAX_HISTORY_EVENTS
    assert progress.opened == ["00_setup"]
    assert len(progress.passed["05_testing_workflows"]) == SIGNALS


async def all_recorded(handle: WorkflowHandle, notebook: str, count: int) -> Progress:
    """The progress once `count` exercises of `notebook` are in it, or as it is after
    `SETTLE_SECONDS`. A query can read a run while the last signal, accepted by the server, still
    waits for its workflow task (most often across a continue-as-new): nothing is lost, it is
    only not applied yet."""
    deadline = Deadline(SETTLE_SECONDS)
    progress = await progress_of(handle)
    while len(progress.passed.get(notebook, [])) < count and not deadline.passed:
        await asyncio.sleep(0.2)
        progress = await progress_of(handle)
    return progress


async def test_a_new_worker_finds_the_progress_a_stopped_one_left(
    dev_client: Client, fresh: WorkflowHandle
) -> None:
    async with polling(record.progress_worker(dev_client)):
        await record.send(dev_client, "notebook_opened", "04_durability")
    # No worker now (a kernel restarting): the signal waits in the workflow's history.
    await record.send(dev_client, "exercise_passed", ExercisePassed("04_durability", "kill it"))
    async with polling(record.progress_worker(dev_client)):
        progress = await asyncio.wait_for(progress_of(fresh), SETTLE_SECONDS)
    assert progress.opened == ["04_durability"]
    assert progress.passed == {"04_durability": ["kill it"]}


def test_the_last_code_cell_is_the_last_with_code_and_read_again_after_a_save(
    tmp_path: Path,
) -> None:
    cell = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(
        cells=[cell("x = 1"), cell("print(x)"), nbformat.v4.new_markdown_cell("Done"), cell(" ")]
    )
    path = tmp_path / "notebook.ipynb"
    nbformat.write(nb, path)
    # JupyterLab runs no empty cell: the one that counts is the last that holds code.
    assert last_code_cell_id(path) == nb.cells[1].id
    nb.cells.append(cell("print('one more')"))
    nbformat.write(nb, path)
    saved = path.stat().st_mtime_ns
    os.utime(path, ns=(saved, saved + 1))  # a save within the clock's tick is a save too
    assert last_code_cell_id(path) == nb.cells[-1].id


async def test_a_signal_in_a_runs_first_workflow_task_adds_to_the_state_it_continues_from(
    dev_client: Client, fresh: WorkflowHandle
) -> None:
    # What continue-as-new does when a signal arrives as the new run starts: the run's input
    # (the state so far) and the signal come in one workflow task.
    async with polling(record.progress_worker(dev_client)):
        await dev_client.start_workflow(
            LearnerProgress.run,
            Progress(opened=["00_setup"]),
            id=PROGRESS_WORKFLOW_ID,
            task_queue=PROGRESS_TASK_QUEUE,
            start_signal="exercise_passed",
            start_signal_args=[ExercisePassed("01_first_order", "write an activity")],
        )
        progress = await progress_of(fresh)
    assert progress.opened == ["00_setup"]
    assert progress.passed == {"01_first_order": ["write an activity"]}
