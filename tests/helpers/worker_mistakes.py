"""A learner's likely mistakes in a `Worker(...)` cell, as source a cell would hold, each with
the kind `sdk_internals.worker_mistake` must recognise and the line the kernel must show.

A cell may `await` (`run_cell`, `run_as_cell` run it as ipykernel does, on the running loop).
The cell's namespace has `client` (a connected Client), `QUEUE` (a task queue of its own),
`Worker`, `activity`, `workflow`, `ConfirmationWorkflow`, `Order` and `ThreadPoolExecutor`,
as 01's exercise cell has, and `Client`. Files a mistake needs (a `%%writefile` module) are
in `MODULES`.
"""

from __future__ import annotations

import ast
import inspect
import linecache
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from order_management.exercise_workflows import ConfirmationWorkflow
from order_management.sdk_internals import WorkerMistakeKind as Kind
from order_management.shared import Order

ACTIVITY = """
async def send_confirmation(order: Order) -> str:
    return f"Confirmation for {order.order_id}"
"""
DECORATED = "@activity.defn" + ACTIVITY
SHOP_ACTIVITIES = """
class ShopActivities:
    @activity.defn
    async def charge(self, order: Order) -> str:
        return "charged"

    @activity.defn
    async def refund(self, order: Order) -> str:
        return "refunded"
"""
AWAIT_ADVICE = (
    "TypeError: a Worker takes no `await`: build it with `worker = Worker(...)`, then run it "
    "with `async with worker:` or `await worker.run()`"
)


def _worker(
    arguments: str = "workflows=[ConfirmationWorkflow], activities=[send_confirmation]",
) -> str:
    return f"\nconfirmation_worker = Worker(client, task_queue=QUEUE, {arguments})\n"


@dataclass(frozen=True)
class Mistake:
    source: str
    kind: Kind
    line: str


FIX_IN_FILE = "fix it in the cell that writes that file, run that cell, then this one again"
WORKER_SHAPE = "Worker(client, task_queue=..., workflows=[...], activities=[...])"

MODULES = {
    "no_run_method.py": """from temporalio import workflow


@workflow.defn
class Thanks:
    async def run(self) -> str:
        return "thanks"
""",
    "plain_workflow.py": """from temporalio import workflow


class HoldStock:
    @workflow.run
    async def run(self, order_id: str) -> str:
        return order_id
""",
    "plain_activity.py": """from temporalio import activity


async def pack(order_id: str) -> str:
    return order_id
""",
    "named_thanks.py": """from temporalio import workflow


@workflow.defn
class Thanks:
    @workflow.run
    async def run(self) -> str:
        return "thanks"


@workflow.defn(name="Thanks")
class ThanksAgain:
    @workflow.run
    async def run(self) -> str:
        return "thanks again"
""",
    "clock_at_import.py": """from datetime import datetime

from temporalio import workflow

OPENED = datetime.now()


@workflow.defn
class Opening:
    @workflow.run
    async def run(self) -> str:
        return "open"
""",
}

MISTAKES = {
    "an activity without @activity.defn": Mistake(
        ACTIVITY + _worker(),
        Kind.NOT_AN_ACTIVITY,
        "TypeError: send_confirmation is not an activity: put @activity.defn above its def, "
        "then run the cell again",
    ),
    "an activity from a module, without @activity.defn": Mistake(
        "import plain_activity\n" + _worker("activities=[plain_activity.pack]"),
        Kind.NOT_AN_ACTIVITY,
        f"TypeError: pack is not an activity: put @activity.defn above its def in "
        f"plain_activity.py: {FIX_IN_FILE}",
    ),
    "the activity called in activities=[...]": Mistake(
        DECORATED + _worker("activities=[send_confirmation(None)]"),
        Kind.NOT_AN_ACTIVITY,
        "TypeError: activities=[...] holds what send_confirmation(...) returned, not the "
        "activity: pass the function itself, activities=[send_confirmation]",
    ),
    "a workflow class without @workflow.defn": Mistake(
        DECORATED
        + "class Thanks:\n    async def run(self) -> str:\n        return 'thanks'\n"
        + _worker("workflows=[Thanks], activities=[send_confirmation]"),
        Kind.NOT_A_WORKFLOW,
        "ValueError: Thanks is not a workflow: put @workflow.defn above its class, then run "
        "the cell again",
    ),
    "a workflow class from a module, without @workflow.defn": Mistake(
        "import plain_workflow\n" + _worker("workflows=[plain_workflow.HoldStock]"),
        Kind.NOT_A_WORKFLOW,
        f"ValueError: HoldStock is not a workflow: put @workflow.defn above its class in "
        f"plain_workflow.py: {FIX_IN_FILE}",
    ),
    "the activity in workflows=[...]": Mistake(
        DECORATED + _worker("workflows=[send_confirmation]"),
        Kind.NOT_A_WORKFLOW,
        "ValueError: send_confirmation is a function, not a workflow class: workflows=[...] "
        "takes classes marked @workflow.defn (an activity goes in activities=[...])",
    ),
    "the run method in workflows=[...]": Mistake(
        DECORATED + _worker("workflows=[ConfirmationWorkflow.run], activities=[send_confirmation]"),
        Kind.NOT_A_WORKFLOW,
        "ValueError: workflows=[...] holds the method ConfirmationWorkflow.run: pass the class "
        "itself, workflows=[ConfirmationWorkflow]",
    ),
    "an instance in workflows=[...]": Mistake(
        DECORATED + _worker("workflows=[ConfirmationWorkflow()], activities=[send_confirmation]"),
        Kind.NOT_A_WORKFLOW,
        "ValueError: workflows=[...] holds a ConfirmationWorkflow object: pass the class "
        "itself, workflows=[ConfirmationWorkflow]",
    ),
    "a workflow module without @workflow.run": Mistake(
        "import no_run_method\n",
        Kind.WORKFLOW_DEFINITION,
        "ValueError: no_run_method.py, line 4: Invalid workflow class: Missing @workflow.run "
        f"method: {FIX_IN_FILE}",
    ),
    "a workflow's run that is a plain def": Mistake(
        "@workflow.defn\nclass Thanks:\n    @workflow.run\n    def run(self) -> str:\n"
        "        return 'thanks'\n",
        Kind.WORKFLOW_DEFINITION,
        "ValueError: Workflow run method must be an async function: fix the workflow class, "
        "then run the cell again",
    ),
    "a plain-def activity without an executor": Mistake(
        "@activity.defn\ndef send_confirmation(order: Order) -> str:\n    return 'sent'\n"
        + _worker(),
        Kind.SYNC_ACTIVITY,
        "ValueError: send_confirmation is a plain def: a Worker runs it only with an executor, "
        "pass activity_executor=ThreadPoolExecutor() to Worker(...), or make it `async def "
        "send_confirmation(...)`",
    ),
    "activities= without the brackets": Mistake(
        DECORATED + _worker("workflows=[ConfirmationWorkflow], activities=send_confirmation"),
        Kind.NOT_A_LIST,
        "TypeError: activities= takes a list, even of one: activities=[send_confirmation]",
    ),
    "workflows= without the brackets": Mistake(
        DECORATED + _worker("workflows=ConfirmationWorkflow, activities=[send_confirmation]"),
        Kind.NOT_A_LIST,
        "TypeError: workflows= takes a list, even of one: workflows=[ConfirmationWorkflow]",
    ),
    "nothing registered": Mistake(
        "confirmation_worker = Worker(client, task_queue=QUEUE)\n",
        Kind.NOTHING_REGISTERED,
        "ValueError: this Worker has nothing to run: give it workflows=[...] (classes marked "
        "@workflow.defn), activities=[...] (functions marked @activity.defn), or both",
    ),
    "the worker cell run twice on a fixed queue": Mistake(
        DECORATED + _worker() + _worker(),
        Kind.QUEUE_TAKEN,
        "RuntimeError: task queue {queue!r} is taken: another Worker built on this client has "
        "it (a Worker holds its queue until it has run and shut down; one never run holds it "
        "until the kernel restarts). Give this Worker a task queue of its own",
    ),
    "a task queue that is a number": Mistake(
        DECORATED
        + "confirmation_worker = Worker(client, task_queue=42, activities=[send_confirmation])\n",
        Kind.QUEUE_NOT_STR,
        "TypeError: task_queue takes the queue's name as a str, not 42 (int)",
    ),
    "a task queue function not called": Mistake(
        DECORATED
        + "def confirmation_queue() -> str:\n    return QUEUE\n"
        + "confirmation_worker = Worker(client, task_queue=confirmation_queue, "
        "activities=[send_confirmation])\n",
        Kind.QUEUE_NOT_STR,
        "TypeError: task_queue is the function confirmation_queue, not a queue's name: call "
        "it, task_queue=confirmation_queue()",
    ),
    "module-level code the sandbox refuses": Mistake(
        "import clock_at_import\n" + _worker("workflows=[clock_at_import.Opening]"),
        Kind.SANDBOX_REFUSED,
        "RuntimeError: the sandbox could not load Opening from clock_at_import.py: Cannot "
        "access datetime.datetime.now.__call__ from inside a workflow (the sandbox runs the "
        "module's top-level code too: move that call into an activity)",
    ),
    "a misspelt argument": Mistake(
        DECORATED + _worker("workflow=[ConfirmationWorkflow], activities=[send_confirmation]"),
        Kind.UNKNOWN_ARGUMENT,
        f"TypeError: Worker(...) takes no argument 'workflow' (did you mean workflows=?): "
        f"{WORKER_SHAPE}",
    ),
    "no task queue": Mistake(
        DECORATED + "confirmation_worker = Worker(client, activities=[send_confirmation])\n",
        Kind.MISSING_ARGUMENT,
        f"TypeError: Worker(...) needs 'task_queue': {WORKER_SHAPE}",
    ),
    "the task queue by position": Mistake(
        DECORATED + "confirmation_worker = Worker(client, QUEUE, activities=[send_confirmation])\n",
        Kind.POSITIONAL_ARGUMENT,
        f"TypeError: Worker(...) takes only the client by position, the rest by name: "
        f"{WORKER_SHAPE}",
    ),
    "the constructor awaited": Mistake(
        DECORATED + "confirmation_worker = await Worker(client, task_queue=QUEUE, "
        "workflows=[ConfirmationWorkflow], activities=[send_confirmation])\n",
        Kind.AWAITED,
        AWAIT_ADVICE,
    ),
    "the worker awaited": Mistake(
        DECORATED + _worker() + "await confirmation_worker\n",
        Kind.AWAITED,
        AWAIT_ADVICE,
    ),
    "a plain with": Mistake(
        DECORATED
        + "with Worker(client, task_queue=QUEUE, activities=[send_confirmation]) as worker:\n"
        + "    print('running')\n",
        Kind.PLAIN_WITH,
        "TypeError: a Worker runs under `async with`, not `with`: write `async with "
        "Worker(client, ...) as worker:`",
    ),
    "an activity listed twice": Mistake(
        DECORATED + _worker("activities=[send_confirmation, send_confirmation]"),
        Kind.DUPLICATE_NAME,
        "ValueError: activities=[...] lists send_confirmation twice: list each activity once",
    ),
    "two activities with one name": Mistake(
        DECORATED
        + "@activity.defn(name='send_confirmation')\n"
        + "async def send_receipt(order: Order) -> str:\n    return 'receipt'\n"
        + _worker("activities=[send_confirmation, send_receipt]"),
        Kind.DUPLICATE_NAME,
        "ValueError: two activities are named 'send_confirmation' (send_confirmation and "
        "send_receipt): a Worker runs one activity per name, so give one of them another with "
        "@activity.defn(name=...)",
    ),
    "a workflow listed twice": Mistake(
        _worker("workflows=[ConfirmationWorkflow, ConfirmationWorkflow]"),
        Kind.DUPLICATE_NAME,
        "ValueError: workflows=[...] lists ConfirmationWorkflow twice: list each workflow once",
    ),
    "two workflows with one name": Mistake(
        "import named_thanks\n"
        + _worker("workflows=[named_thanks.Thanks, named_thanks.ThanksAgain]"),
        Kind.DUPLICATE_NAME,
        "ValueError: two workflows are named 'Thanks' (Thanks and ThanksAgain): a Worker runs "
        "one workflow per name, so give one of them another with @workflow.defn(name=...)",
    ),
    "the class of the activities": Mistake(
        SHOP_ACTIVITIES + _worker("activities=[ShopActivities]"),
        Kind.NOT_AN_ACTIVITY,
        "TypeError: ShopActivities is a class: activities=[...] takes the activity methods of "
        "one instance, shop_activities = ShopActivities(), then "
        "activities=[shop_activities.charge, shop_activities.refund]",
    ),
    "an instance of the activities' class": Mistake(
        SHOP_ACTIVITIES + _worker("activities=[ShopActivities()]"),
        Kind.NOT_AN_ACTIVITY,
        "TypeError: activities=[...] holds a ShopActivities object: it takes its activity "
        "methods, shop_activities = ShopActivities(), then "
        "activities=[shop_activities.charge, shop_activities.refund]",
    ),
    "the workflow in activities=[...]": Mistake(
        DECORATED + _worker("activities=[ConfirmationWorkflow, send_confirmation]"),
        Kind.NOT_AN_ACTIVITY,
        "TypeError: ConfirmationWorkflow is a workflow class: it goes in "
        "workflows=[ConfirmationWorkflow]; activities=[...] takes functions marked "
        "@activity.defn",
    ),
    "the workflow's name in workflows=[...]": Mistake(
        DECORATED + _worker("workflows=['ConfirmationWorkflow'], activities=[send_confirmation]"),
        Kind.NOT_A_WORKFLOW,
        "ValueError: workflows=[...] holds the name 'ConfirmationWorkflow': pass the class "
        "itself, workflows=[ConfirmationWorkflow]",
    ),
    "the server's address for the client": Mistake(
        DECORATED + "confirmation_worker = Worker('localhost:7233', task_queue=QUEUE, "
        "activities=[send_confirmation])\n",
        Kind.NOT_A_CLIENT,
        "AttributeError: Worker(...) takes a connected Client first, not 'localhost:7233' "
        "(str): connect one with `client = await Client.connect(...)`, then Worker(client, ...)",
    ),
    "the Client class for the client": Mistake(
        DECORATED + "confirmation_worker = Worker(Client, task_queue=QUEUE, "
        "activities=[send_confirmation])\n",
        Kind.NOT_A_CLIENT,
        "TypeError: Worker(...) takes a connected Client first, not the class Client: connect "
        "one with `client = await Client.connect(...)`, then Worker(client, ...)",
    ),
    "the test environment for its client": Mistake(
        DECORATED + "from temporalio.testing import WorkflowEnvironment\n"
        "env = WorkflowEnvironment.from_client(client)\n"
        "confirmation_worker = Worker(env, task_queue=QUEUE, activities=[send_confirmation])\n",
        Kind.NOT_A_CLIENT,
        "AttributeError: Worker(...) takes a Client first, not a WorkflowEnvironment object: "
        "pass its client, Worker(env.client, ...)",
    ),
}


async def run_cell(shell: InteractiveShell, source: str) -> ExecutionResult:
    """Run `source` in `shell` as ipykernel runs a cell: on the running event loop, so a
    cell can `await` (the shell's own `run_cell` would start a loop of its own)."""
    transformed = shell.transform_cell(source)
    return await shell.run_cell_async(
        source, transformed_cell=transformed, preprocessing_exc_tuple=None
    )


async def run_as_cell(source: str, namespace: dict[str, Any], file: str = "<cell>") -> None:
    """Run `source` as IPython runs a cell, without a shell: top-level `await` allowed, and
    its source kept in `linecache` under `file`, as IPython keeps each cell's."""
    linecache.cache[file] = (len(source), None, source.splitlines(keepends=True), file)
    code = compile(source, file, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    ran = eval(code, namespace)  # a coroutine when the cell awaits
    if inspect.iscoroutine(ran):
        await ran


def write_modules(folder: Path) -> None:
    """The `%%writefile` modules the mistakes import, in `folder` (the kernel's folder)."""
    for file, source in MODULES.items():
        (folder / file).write_text(source)


def cell_namespace(client: Client, queue: str) -> dict[str, Any]:
    """What 01's exercise cell has defined when the learner writes their worker."""
    return {
        "__name__": "__main__",
        "client": client,
        "Client": Client,
        "QUEUE": queue,
        "Worker": Worker,
        "activity": activity,
        "workflow": workflow,
        "ConfirmationWorkflow": ConfirmationWorkflow,
        "Order": Order,
        "ThreadPoolExecutor": ThreadPoolExecutor,
    }
