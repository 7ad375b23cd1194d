"""A notebook kernel running the worker, while a bad signal arrives from a terminal.

Whatever the worker logs lands in the output of the cell that runs (or ran last): that cell
must hold at most one line about the signal, with no traceback and no colour codes, however
many bad signals arrive.
"""

from __future__ import annotations

import asyncio
import os
import re
import textwrap

import nbformat
from nbclient import NotebookClient

from order_management import devserver

from .conftest import BIN, REPO, RunningServer
from .test_notebooks import output_text

ANSI = re.compile(r"\x1b\[")
CELL_TIMEOUT_SECONDS = 60

SETUP = """\
from order_management.connection import connect
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
        dev_server: RunningServer, task_queue: str, order_id: str) -> None:
    signals = [(), ("--input", '"yes"')]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import asyncio"),
        nbformat.v4.new_code_cell(SETUP.format(task_queue=task_queue, order_id=order_id)),
        nbformat.v4.new_code_cell(WAIT_FOR_SIGNALS.format(count=len(signals))),
    ])
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO)}})
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
        f"OrderWorkflow order-workflow-{order_id}: approve_order(\"yes\") ignored: "
        "approve_order takes true or false",
    ], last  # one line for each of the two signals
    assert "status: awaiting_approval" in last
    everything = "\n".join(output_text(cell) for cell in nb.cells)
    assert "Traceback" not in everything and not ANSI.search(everything), everything


async def _temporal_signal(server: RunningServer, workflow_id: str,
                           input_args: tuple[str, ...]) -> None:
    process = await asyncio.create_subprocess_exec(
        str(devserver.temporal_binary()), "workflow", "signal", "--workflow-id", workflow_id,
        "--name", "approve_order", *input_args, "--address", server.address,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode == 0, textwrap.indent(output.decode(), "  ")
