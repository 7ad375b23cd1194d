"""What the workshop reads from the SDK's and IPython's insides (`sdk_internals`), checked
against the installed versions: an upgrade that changes one fails here, loudly, instead of a
learner's line quietly turning back into a traceback."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from ipykernel.zmqshell import ZMQInteractiveShell
from IPython.core.interactiveshell import InteractiveShell
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker import _activity as worker_activity
from temporalio.worker import _workflow_instance as workflow_instance
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from order_management import sdk_internals
from order_management.notebook.cell_errors import install_error_display
from order_management.orders import OrderError
from order_management.worker import build_worker, start_polling
from order_management.workflow import OrderWorkflow
from tests.helpers.notebooks import Kernel, notebook_client
from tests.helpers.worker_mistakes import (
    MISTAKES,
    MODULES,
    cell_namespace,
    run_as_cell,
    write_modules,
)

HISTORIES = Path(__file__).parent / "histories"


def test_the_sdk_still_marks_a_failed_workflow_task_with_the_private_log_extra() -> None:
    source = inspect.getsource(workflow_instance)
    assert f'"__temporal_error_identifier": "{sdk_internals.WORKFLOW_TASK_FAILURE}"' in source
    record = logging.LogRecord("temporalio.workflow", logging.WARNING, "", 0, "x", None, None)
    assert not sdk_internals.is_workflow_task_failure(record)
    record.__dict__["__temporal_error_identifier"] = sdk_internals.WORKFLOW_TASK_FAILURE
    assert sdk_internals.is_workflow_task_failure(record)


async def test_the_core_still_wraps_a_nondeterminism_error_in_debug_text_with_a_message() -> None:
    edited = (HISTORIES / "completed.json").read_text()
    edited = edited.replace('"reserve_inventory"', '"process_payment"', 1)
    result = await Replayer(workflows=[OrderWorkflow]).replay_workflow(
        WorkflowHistory.from_json("edited", edited), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    message = sdk_internals.core_message(str(result.replay_failure))
    assert message is not None, str(result.replay_failure)
    assert message.startswith("[TMPRL1100] Nondeterminism error: Activity type of scheduled")
    assert sdk_internals.core_message('Failure { message: "a \\"b\\"\\nc", x: 1 }') == 'a "b" c'
    assert sdk_internals.core_message("no debug text") is None


async def test_a_running_worker_is_still_recognised_by_its_task(
    dev_client: Client, task_queue: str
) -> None:
    worker = build_worker(dev_client, task_queue)
    task = await start_polling(worker)
    other = asyncio.create_task(asyncio.sleep(1))
    try:
        assert sdk_internals.is_worker_task(task)
        assert not sdk_internals.is_worker_task(other)
        assert sdk_internals.has_run(worker)
        assert not sdk_internals.has_run(build_worker(dev_client, f"{task_queue}-unrun"))
    finally:
        other.cancel()
        await worker.shutdown()
        await task


@pytest.mark.parametrize("shell_class", [InteractiveShell, ZMQInteractiveShell])
def test_both_shells_still_show_an_error_through_showtraceback(shell_class: type) -> None:
    parameters = list(inspect.signature(shell_class._showtraceback).parameters)
    assert parameters == ["self", "etype", "evalue", "stb"]


def test_the_kernel_shows_a_workshop_error_as_its_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell = InteractiveShell.instance()
    try:
        install_error_display(shell)
        shell.user_ns["OrderError"] = OrderError
        result = shell.run_cell("raise OrderError('Order 7 has finished: place a new one')")
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, OrderError)
    shown = capsys.readouterr()
    lines = (shown.out + shown.err).strip().splitlines()
    assert lines == ["\x1b[0;31mOrderError\x1b[0m: Order 7 has finished: place a new one"]


@activity.defn(name="send_confirmation")
async def _confirm() -> str:
    return "sent"


async def _undecorated() -> str:
    return "sent"


@workflow.defn
class _Noted:
    @workflow.run
    async def run(self) -> None: ...

    @workflow.signal
    def add_note(self, note: str) -> None: ...

    @workflow.query
    def get_note(self) -> str:
        return ""


def test_the_sdk_still_records_an_activitys_name_and_a_workflows_handlers() -> None:
    assert sdk_internals.activity_name(_confirm) == "send_confirmation"
    assert sdk_internals.activity_name(_undecorated) is None
    handlers = sdk_internals.workflow_handlers(_Noted)
    assert handlers is not None
    signals, queries = handlers
    assert list(signals) == ["add_note"] and list(queries) == ["get_note"]
    assert sdk_internals.workflow_handlers(type("Plain", (), {})) is None


def test_ipython_still_hands_a_post_run_cell_callback_the_cells_id() -> None:
    shell = InteractiveShell.instance()
    heard: list[str | None] = []

    def hear(result: object) -> None:
        heard.append(sdk_internals.executed_cell_id(result))

    try:
        shell.events.register("post_run_cell", hear)
        shell.run_cell("total = 1 + 1", cell_id="the-last-cell")
        shell.run_cell("total = 3")
    finally:
        shell.events.unregister("post_run_cell", hear)
        InteractiveShell.clear_instance()
    assert heard == ["the-last-cell", None]


def test_a_kernel_still_takes_a_cells_id_from_the_metadata_jupyterlab_sends() -> None:
    """ipykernel reads the id from the `execute_request`'s metadata (`cellId`, where
    JupyterLab puts it and `notebook_client` too) and passes it on to IPython."""
    client = notebook_client(nbformat.v4.new_notebook())
    with client.setup_kernel():
        kernel = Kernel(client)
        kernel.run(
            "from order_management import sdk_internals\n"
            "heard = []\n"
            "def hear(result):\n"
            "    heard.append(sdk_internals.executed_cell_id(result))\n"
            "get_ipython().events.register('post_run_cell', hear)"
        )
        kernel.run("total = 1 + 1")
        ran = client.nb.cells[-1].id
        assert kernel.run("print(heard[-1])").strip() == ran


def test_a_kernel_asked_to_shut_down_still_calls_do_shutdown_on_another_thread(
    tmp_path: Path,
) -> None:
    """Jupyter's shutdown request reaches `Kernel.do_shutdown`, on ipykernel's control thread
    (never the cells' own, which the workers' stop needs free), before the kernel ends."""
    heard = tmp_path / "heard"
    client = notebook_client(nbformat.v4.new_notebook())
    with client.setup_kernel():  # leaving it shuts the kernel down, as Jupyter asks
        Kernel(client).run(
            "import threading\n"
            "from pathlib import Path\n"
            "from order_management import sdk_internals\n"
            "def stop():\n"
            "    on_main = threading.current_thread() is threading.main_thread()\n"
            f"    Path({str(heard)!r}).write_text(f'main thread: {{on_main}}')\n"
            "print(sdk_internals.before_kernel_shutdown(get_ipython(), stop))"
        )
        assert not heard.exists()
    assert heard.read_text() == "main thread: False"


@pytest.mark.filterwarnings("ignore:coroutine 'send_confirmation' was never awaited")
@pytest.mark.parametrize("name", MISTAKES)
async def test_the_sdk_still_reports_each_worker_mistake_where_the_workshop_reads_it(
    name: str, dev_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_modules(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace = cell_namespace(dev_client, f"mistake-{uuid.uuid4().hex[:8]}")
    with pytest.raises(Exception) as raised:  # each mistake raises its own kind
        await run_as_cell(MISTAKES[name].source, namespace)
    for module in MODULES:
        sys.modules.pop(module.removesuffix(".py"), None)
    mistake = sdk_internals.worker_mistake(raised.value)
    assert mistake is not None, repr(raised.value)
    assert mistake.kind is MISTAKES[name].kind


OURS = [
    "nothing registered",
    "the constructor awaited",
    "an activity listed twice",
    "a workflow listed twice",
    "the class of the activities",
    "the server's address for the client",
    "a plain with",
]


@pytest.mark.parametrize("name", OURS)
async def test_the_same_sdk_error_on_behalf_of_the_workshops_own_code_is_a_bug(
    name: str, dev_client: Client
) -> None:
    # Compiled as if it were a module of the package: a Worker(...) call of the workshop's own.
    ours = str(Path(sdk_internals.__file__).parent / "worker.py")
    namespace = cell_namespace(dev_client, f"ours-{uuid.uuid4().hex[:8]}")
    with pytest.raises(Exception) as raised:
        await run_as_cell(MISTAKES[name].source, namespace, file=ours)
    assert sdk_internals.worker_mistake(raised.value) is None
    # The same source as a cell's: a learner's mistake (the test above checks each kind).
    namespace = cell_namespace(dev_client, f"ours-{uuid.uuid4().hex[:8]}")
    with pytest.raises(Exception) as raised:
        await run_as_cell(MISTAKES[name].source, namespace)
    assert sdk_internals.worker_mistake(raised.value) is not None


async def test_a_plain_type_error_is_no_worker_mistake() -> None:
    with pytest.raises(TypeError) as plain:
        exec(compile("len(5)", "<cell>", "exec"), {})
    assert sdk_internals.worker_mistake(plain.value) is None
    # Awaiting, or entering with `with`, anything but a temporalio Worker (Python's words are
    # the same for a learner's own class called Worker).
    for used in ("await Worker()", "with Worker():\n    pass"):
        with pytest.raises(TypeError) as refused:
            await run_as_cell(f"class Worker:\n    pass\n\n{used}", {})
        assert sdk_internals.worker_mistake(refused.value) is None


def test_the_sandboxs_refusal_is_still_recognised_in_a_failed_workflow_tasks_message() -> None:
    refusal = str(RestrictedWorkflowAccessError("datetime.datetime.now.__call__"))
    assert sdk_internals.is_sandbox_refusal(f"Failed activation: {refusal}")
    assert not sdk_internals.is_sandbox_refusal("Workflow task failed: boom")


def test_the_worker_still_warns_with_these_words_of_a_cancel_for_an_ended_attempt() -> None:
    source = inspect.getsource(worker_activity)
    assert f'warnings.warn(f"{sdk_internals.CANCEL_OF_ENDED_ATTEMPT} for token' in source
