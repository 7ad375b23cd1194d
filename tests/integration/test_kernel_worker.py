"""The in-kernel worker's promises, in one long-lived kernel stepped a cell at a time: it finishes
an order signalled from outside while no cell runs, a restart replaces it, a worker that dies
says so in the next cell, and a learner's mistakes show as one line."""

from __future__ import annotations

import re
import time
import uuid

import nbformat
import pytest
from temporalio.client import Client

from order_management.notebook.outages import pending_activities
from tests.helpers.notebooks import (
    Kernel,
    NotebookServer,
    notebook_client,
    temporal,
)

pytestmark = pytest.mark.notebook


def test_worker_finishes_an_order_signalled_while_no_cell_runs(
    kernel: Kernel, notebook_server: NotebookServer
) -> None:
    workflow_id = kernel.run("""
handle = await start(make_order(1500.0, new_order_id()))
print(handle.id)
""").strip()
    # The cell has ended; the kernel is idle. Approve from outside, as from a terminal.
    temporal(
        notebook_server,
        "workflow",
        "signal",
        "--workflow-id",
        workflow_id,
        "--name",
        "approve_order",
        "--input",
        "true",
    )
    deadline = time.monotonic() + 30
    while "COMPLETED" not in temporal(
        notebook_server, "workflow", "describe", "--workflow-id", workflow_id
    ):
        assert time.monotonic() < deadline, "the idle kernel's worker did not finish the order"
        time.sleep(0.2)
    assert (
        kernel.run("print((await asyncio.wait_for(handle.result(), 10)).message)").strip()
        == "Order processed successfully"
    )


def test_starting_the_worker_again_replaces_it(kernel: Kernel) -> None:
    output = kernel.run("""
for _ in range(3):
    await start_worker(client)
import asyncio
workers = [t for t in asyncio.all_tasks() if t.get_name().startswith("worker:") and not t.done()]
print("running workers:", len(workers))
handle = await start(make_order(20.0, new_order_id()))
print((await asyncio.wait_for(handle.result(), 10)).message)
""")
    assert "running workers: 1" in output
    assert "Order processed successfully" in output
    assert "single use" not in output


def test_a_worker_that_dies_says_so_in_the_next_cell(kernel: Kernel) -> None:
    kernel.run(
        "from order_management.notebook.kernel_worker import kernel_worker\n"
        "kernel_worker.task.cancel()"
    )
    kernel.run("await asyncio.sleep(2)")  # the worker shuts down between these cells
    warned = kernel.run("print('next cell')")
    assert (
        "Warning! The in-kernel worker was cancelled. Run the cell that starts the worker" in warned
    )
    refused = kernel.run(
        "await asyncio.wait_for((await start(make_order(40.0, "
        "new_order_id()))).result(), timeout=3)",
        fails=True,
    )
    assert "TimeoutError: no answer before the timeout" in refused
    assert "this kernel runs no worker: run `await start_worker(client)`" in refused
    assert "most recent call last" not in refused  # one line to act on, not a stack
    kernel.run("await start_worker(client)")
    after_restart = kernel.run("""
handle = await start(make_order(30.0, new_order_id()))
print((await asyncio.wait_for(handle.result(), 10)).message)
""")
    assert after_restart.strip() == "Order processed successfully"  # and no more warning


def test_an_order_outlives_the_kernel_that_ran_it(
    kernel: Kernel, notebook_server: NotebookServer
) -> None:
    # Restart kernel in one notebook while another kernel follows that notebook's order: the
    # server first holds the order's next task for the dead worker; the queries still answer.
    # Its own task queue, so the order's first task surely ran in the kernel that dies.
    queue = f"outlives-{time.monotonic_ns()}"
    other = notebook_client(nbformat.v4.new_notebook())
    with other.setup_kernel(env=notebook_server.env):
        order_id = (
            Kernel(other)
            .run(f"""
from order_management.notebook import connect_and_show, new_order_id, start_worker
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow
client = await connect_and_show()
await start_worker(client, "{queue}")
order = make_order(1500.0, new_order_id("DIES"))
handle = await client.start_workflow(OrderWorkflow.run, order,
                                     id="order-workflow-" + order.order_id,
                                     task_queue="{queue}")
print(await handle.query(OrderWorkflow.get_status))
print(order.order_id)
""")
            .split()[-1]
        )
    # That kernel is gone, without stopping its worker: the order lives on in this one.
    output = kernel.run(f"""
from order_management.orders import order_handle
await start_worker(client, "{queue}")
handle = order_handle(client, "{order_id}")
print(await handle.query(OrderWorkflow.get_status))
await handle.signal(OrderWorkflow.approve_order, True)
print((await asyncio.wait_for(handle.result(), 30)).message)
""")
    kernel.run("await start_worker(client)")  # back on the workshop's task queue
    assert re.search(r"\nawaiting_approval\n+Order processed successfully", output), output


def test_a_cell_run_before_the_one_it_needs_says_which_to_run(kernel: Kernel) -> None:
    shown = kernel.run("print(flaky_handle.id)", fails=True)  # 03's step 1 never ran here
    assert "NameError: name 'flaky_handle' is not defined" in shown
    assert "Is `flaky_handle` made by a cell above? Run the cells above this one first" in shown


def test_a_wrong_exercise_answer_fails_its_check_with_the_hint(kernel: Kernel) -> None:
    assert "Your turn: count the steps" in kernel.run(
        "self_check(..., 3, task='count the steps', hint='there are three')"
    )
    wrong = kernel.run("self_check(2, 3, hint='there are three')", fails=True)
    assert "NotYet: Not quite yet (your answer: 2). Hint: there are three" in wrong
    assert "Well done" in kernel.run("self_check(3, 3, hint='there are three')")


def test_approval_panel_buttons_decide_and_the_status_line_follows(kernel: Kernel) -> None:
    output = kernel.run("""
handle = await start(make_order(1800.0, new_order_id()))
panel = approval_panel(handle)
await asyncio.sleep(1)
print("before:", panel.status)
panel.reject_button.click()
print((await asyncio.wait_for(handle.result(), 10)).status)
await asyncio.sleep(1)
print("after:", panel.status, panel.approve_button.disabled, panel.reject_button.disabled)
""")
    assert re.search(r"before: <b>order-workflow-ORDER-\w+</b>: awaiting_approval", output)
    assert "\nrejected\n" in output
    assert re.search(r"after: <b>order-workflow-ORDER-\w+</b>: rejected True True", output)


def test_a_worker_that_cannot_start_says_why(
    kernel: Kernel, notebook_server: NotebookServer
) -> None:
    refused = kernel.run(
        f"""
from temporalio.client import Client
elsewhere = await Client.connect("localhost:{notebook_server.port}", namespace="no-such-namespace")
await start_worker(elsewhere)
""",
        fails=True,
    )
    assert "WorkerStopped: The worker could not start" in refused
    assert "no-such-namespace" in refused
    assert "most recent call last" not in refused
    kernel.run("await start_worker(client)")


def test_sdk_errors_a_learner_can_cause_show_as_one_line(kernel: Kernel) -> None:
    failed = kernel.run(
        "await asyncio.wait_for((await start(make_order(-5.0, new_order_id()))).result(), 10)",
        fails=True,
    )
    assert "WorkflowFailureError: the workflow failed: Invalid order" in failed
    kernel.run("""
handle = await start(make_order(1500.0, new_order_id()))
print(await handle.execute_update(OrderWorkflow.decide, True))
await asyncio.wait_for(handle.result(), 10)
""")
    finished = kernel.run("await handle.signal(OrderWorkflow.approve_order, False)", fails=True)
    assert "RPCError: that workflow has already finished" in finished
    waiting = kernel.run(
        """
handle = await start(make_order(1500.0, new_order_id()))
print(await handle.execute_update(OrderWorkflow.decide, True))
await handle.execute_update(OrderWorkflow.decide, False)
""",
        fails=True,
    )
    assert "WorkflowUpdateFailedError: the update was refused: Order" in waiting
    assert "no longer waiting for a decision (already approved)" in waiting
    for shown in (failed, finished, waiting):
        assert "most recent call last" not in shown and "Traceback" not in shown, shown


def test_a_cell_shows_the_code_it_runs_from_the_real_source(kernel: Kernel) -> None:
    shown = kernel.run(
        "print(repr(show_code(OrderWorkflow.run, 'order_management.workflow.STEP_RETRY')))"
    )
    assert re.search(
        r"# order_management/workflow\.py, lines \d+-\d+\n@workflow\.run\n"
        r"async def run\(self, order: Order[^)]*\) -> OrderResult:",
        shown,
    ), shown
    assert "STEP_RETRY = RetryPolicy(" in shown and "maximum_interval=" in shown


async def test_a_kernel_shut_down_stops_its_worker_so_its_activity_is_retried_at_once(
    notebook_server: NotebookServer,
) -> None:
    # Restart, Shut Down, or nbclient at a notebook's end: the worker must not just die with
    # the kernel, leaving its activity "started" until its 40 s timeout (a 30 s mock delay).
    queue = f"shutdown-{uuid.uuid4().hex[:8]}"  # no other kernel's worker takes the activity
    client = notebook_client(nbformat.v4.new_notebook())
    with client.setup_kernel(env=notebook_server.env):  # leaving it shuts the kernel down
        printed = Kernel(client).run(f"""
from order_management.notebook import connect_and_show, new_order_id, start_worker
from order_management.notebook.outages import wait_for_activity
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow
client = await connect_and_show()
await start_worker(client, {queue!r})
order = make_order(300, new_order_id(), mock_delay_seconds=30)
handle = await client.start_workflow(OrderWorkflow.run, order, task_queue={queue!r},
                                     id=f"order-workflow-{{order.order_id}}")
await wait_for_activity(handle, "reserve_inventory")
print(handle.id)
""")
    workflow_id = printed.split()[-1]
    temporal_client = await Client.connect(f"localhost:{notebook_server.port}")
    handle = temporal_client.get_workflow_handle(workflow_id)
    try:
        (retry,) = await pending_activities(handle)
    finally:
        await handle.terminate("test over")  # no worker polls its queue any more
    assert (retry.activity, retry.state, retry.attempt) == ("reserve_inventory", "scheduled", 2)
    assert "shutting down" in (retry.last_failure or "")
