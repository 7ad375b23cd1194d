"""The SDK's errors as a learner's sentence: what happened, and what to do next.

Scripts (`orders.py`, `starter.py`) and notebook cells (`notebook/cell_errors.py`) meet the
same SDK exceptions: a wait that ran out, a workflow that failed, an update its validator
refused, a signal to a finished workflow. Their messages are gRPC statuses or the SDK's
insides; `explain` turns each into the one sentence both sides show. A learner's own
`Worker(...)` call meets a few more: an activity without `@activity.defn`, a workflow class
without `@workflow.defn`, a task queue another Worker holds, one name registered twice, an
`await` before `Worker(...)` (`WORKER_ERRORS`, `sdk_internals.worker_mistake`).
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import re
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from order_management.errors import WorkshopError
from order_management.sdk_internals import (
    WorkerMistake,
    WorkerMistakeKind,
    activity_name,
    worker_mistake,
    workflow_handlers,
)

EXPLAINED: tuple[type[BaseException], ...] = (
    WorkshopError,
    WorkflowAlreadyStartedError,
    RPCError,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    TimeoutError,
    asyncio.TimeoutError,
)
"""The errors `explain` has a sentence for: the workshop's own (their message is it), the
SDK's, and the timeouts of a bounded wait."""

WORKER_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    ValueError,
    RuntimeError,
    AttributeError,
)
"""The plain errors the SDK (or Python) raises for a mistake in a `Worker(...)` call;
`explain` has a sentence for those that `is_worker_mistake` recognises, the rest keep their
traceback."""

WORKER_SHAPE = "Worker(client, task_queue=..., workflows=[...], activities=[...])"
FIX_IN_FILE = "fix it in the cell that writes that file, run that cell, then this one again"

ANY_WORKER = "is a worker polling the workflow's task queue? If one is, its log says what fails"


def explain(error: BaseException, worker_hint: str = ANY_WORKER) -> str:
    """What the learner reads for `error`. `worker_hint` is the question a timeout asks about
    the worker (a notebook knows whether its kernel runs one)."""
    mistake = worker_mistake(error)
    if mistake is not None:
        return worker_mistake_line(mistake)
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)) and not str(error):
        return no_answer(worker_hint)
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        # What `asyncio.wait_for(handle.execute_update(...))` raises when its time runs out.
        return no_answer(worker_hint)
    if isinstance(error, WorkflowFailureError) and isinstance(error.cause, ActivityError):
        activity = error.cause
        return (
            f"the workflow failed: its activity {activity.activity_type} failed for good: "
            f"{reason(activity.cause)}"
        )
    if isinstance(error, WorkflowFailureError):
        return f"the workflow failed: {reason(error.cause)}"
    if isinstance(error, WorkflowUpdateFailedError):
        return f"the update was refused: {reason(error.cause)}"
    if isinstance(error, WorkflowQueryFailedError):
        return f"the query failed: {error.message}"
    if isinstance(error, WorkflowQueryRejectedError):
        status = error.status.name if error.status else "unknown"
        return f"the query was rejected: the workflow's status is {status}"
    if isinstance(error, WorkflowAlreadyStartedError):
        return (
            # Not always "still running": a closed workflow's id is refused too when the
            # start's id reuse policy says so (REJECT_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY).
            f"{error.workflow_id} is taken: a workflow with that id is still running (an id "
            "runs one workflow at a time), or the start's id reuse policy refuses to reuse a "
            "closed one: let it end first (e.g. decide it), or start it with another id"
        )
    if isinstance(error, RPCError):
        return _refused(error, worker_hint)
    return str(error)


def reason(cause: BaseException | None) -> str:
    """A failure's own sentence (an ApplicationError's message, not its repr)."""
    if cause is None:
        return "no reason given"
    return getattr(cause, "message", None) or str(cause) or type(cause).__name__


def no_answer(worker_hint: str = ANY_WORKER) -> str:
    """The sentence for a wait that ran out."""
    return (
        "no answer before the timeout. A result comes only once the workflow ends (is it "
        "waiting for a decision?); a query or an update needs a worker to answer "
        f"({worker_hint}). The workflow's Web UI page shows where it is."
    )


def _refused(error: RPCError, worker_hint: str) -> str:
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:  # a call's rpc_timeout ran out
        return no_answer(worker_hint)
    if error.status == RPCStatusCode.CANCELLED and "Timeout" in error.message:
        return no_answer(worker_hint)  # a query no worker answered: the call timed out
    if error.status == RPCStatusCode.NOT_FOUND:
        if "completed" in error.message:
            return (
                "that workflow has already finished: it takes no more signals or updates "
                "(queries still answer). Start a new one to try again."
            )
        return f"no such workflow ({error.message}): check the id, or start it first"
    return f"Temporal refused the request: {error.message}"


def is_worker_mistake(error: BaseException) -> bool:
    """Whether `error` is a learner's mistake in a `Worker(...)` call that `explain` says in
    one line (a bug of the workshop's own code never is)."""
    return worker_mistake(error) is not None


def worker_mistake_line(mistake: WorkerMistake) -> str:
    """What to fix, for a mistake in a `Worker(...)` call or in the code it registers."""
    kind, subject = mistake.kind, mistake.subject
    if kind is WorkerMistakeKind.NOT_AN_ACTIVITY:
        return _not_an_activity(subject)
    if kind is WorkerMistakeKind.NOT_A_WORKFLOW:
        return _not_a_workflow(subject)
    if kind is WorkerMistakeKind.WORKFLOW_DEFINITION:
        if mistake.module == "__main__":
            return f"{mistake.detail}: fix the workflow class, then run the cell again"
        return f"{shown_path(mistake.file)}, line {mistake.line}: {mistake.detail}: {FIX_IN_FILE}"
    if kind is WorkerMistakeKind.SYNC_ACTIVITY:
        name = _name(subject)
        return (
            f"{name} is a plain def: a Worker runs it only with an executor, pass "
            f"activity_executor=ThreadPoolExecutor() to Worker(...), or make it `async def "
            f"{name}(...)`"
        )
    if kind is WorkerMistakeKind.NOT_A_LIST:
        argument, value = subject
        return f"{argument}= takes a list, even of one: {argument}=[{_name(value)}]"
    if kind is WorkerMistakeKind.NOTHING_REGISTERED:
        return (
            "this Worker has nothing to run: give it workflows=[...] (classes marked "
            "@workflow.defn), activities=[...] (functions marked @activity.defn), or both"
        )
    if kind is WorkerMistakeKind.QUEUE_TAKEN:
        return (
            f"task queue {subject!r} is taken: another Worker built on this client has it "
            "(a Worker holds its queue until it has run and shut down; one never run holds "
            "it until the kernel restarts). Give this Worker a task queue of its own"
        )
    if kind is WorkerMistakeKind.QUEUE_NOT_STR:
        if callable(subject):
            return (
                f"task_queue is the function {_name(subject)}, not a queue's name: call it, "
                f"task_queue={_name(subject)}()"
            )
        return (
            f"task_queue takes the queue's name as a str, not {_short(subject)} "
            f"({type(subject).__name__})"
        )
    if kind is WorkerMistakeKind.SANDBOX_REFUSED:
        return _sandbox_refused(mistake)
    if kind is WorkerMistakeKind.UNKNOWN_ARGUMENT:
        close = difflib.get_close_matches(subject, _worker_arguments(), n=1)
        guess = f" (did you mean {close[0]}=?)" if close else ""
        return f"Worker(...) takes no argument {subject!r}{guess}: {WORKER_SHAPE}"
    if kind is WorkerMistakeKind.MISSING_ARGUMENT:
        return f"Worker(...) needs {subject}: {WORKER_SHAPE}"
    if kind is WorkerMistakeKind.DUPLICATE_NAME:
        return _duplicate_name(*subject)
    if kind is WorkerMistakeKind.PLAIN_WITH:
        return (
            "a Worker runs under `async with`, not `with`: write `async with Worker(client, "
            "...) as worker:`"
        )
    if kind is WorkerMistakeKind.NOT_A_CLIENT:
        return _not_a_client(subject)
    if kind is WorkerMistakeKind.AWAITED:
        return (
            "a Worker takes no `await`: build it with `worker = Worker(...)`, then run it "
            "with `async with worker:` or `await worker.run()`"
        )
    return f"Worker(...) takes only the client by position, the rest by name: {WORKER_SHAPE}"


def _duplicate_name(what: str, name: str, first: Any, second: Any) -> str:
    """Two registrations under one name: the same function or class twice, or two whose
    names (their own, or `@activity.defn(name=...)`, `@workflow.defn(name=...)`) agree."""
    several = "activities" if what == "activity" else "workflows"
    if first is second:
        return f"{several}=[...] lists {_name(first)} twice: list each {what} once"
    both = f" ({_name(first)} and {_name(second)})" if _name(first) != _name(second) else ""
    return (
        f"two {several} are named {name!r}{both}: a Worker runs one {what} per name, so give "
        f"one of them another with @{what}.defn(name=...)"
    )


def _not_a_client(value: Any) -> str:
    if isinstance(getattr(value, "client", None), Client):  # a WorkflowEnvironment, say
        return (
            f"Worker(...) takes a Client first, not a {type(value).__name__} object: pass its "
            "client, Worker(env.client, ...)"
        )
    shown = f"the class {value.__name__}" if isinstance(value, type) else _short(value)
    if not isinstance(value, type):
        shown += f" ({type(value).__name__})"
    return (
        f"Worker(...) takes a connected Client first, not {shown}: connect one with "
        "`client = await Client.connect(...)`, then Worker(client, ...)"
    )


def _not_an_activity(value: Any) -> str:
    name = _name(value)
    if isinstance(value, type):
        return _class_in_activities(value)
    if inspect.iscoroutine(value):
        value.close()  # never to run: spare the learner a "never awaited" warning on top
        return (
            f"activities=[...] holds what {name}(...) returned, not the activity: pass the "
            f"function itself, activities=[{name}]"
        )
    if not callable(value) and _activity_methods(type(value)):
        return (
            f"activities=[...] holds a {type(value).__name__} object: it takes its activity "
            f"methods, {_methods_of_one(type(value))}"
        )
    if not callable(value):
        return f"activities=[...] holds {_short(value)}: it takes functions marked @activity.defn"
    return f"{name} is not an activity: put @activity.defn above its def{_then_run(value)}"


def _class_in_activities(cls: type) -> str:
    if workflow_handlers(cls) is not None:
        return (
            f"{cls.__name__} is a workflow class: it goes in workflows=[{cls.__name__}]; "
            "activities=[...] takes functions marked @activity.defn"
        )
    if not _activity_methods(cls):
        return (
            f"{cls.__name__} is a class: activities=[...] takes functions marked "
            "@activity.defn (a workflow class goes in workflows=[...])"
        )
    return (
        f"{cls.__name__} is a class: activities=[...] takes the activity methods of one "
        f"instance, {_methods_of_one(cls)}"
    )


def _activity_methods(cls: type) -> list[str]:
    return [name for name, member in vars(cls).items() if activity_name(member)]


def _methods_of_one(cls: type) -> str:
    """How to register the activity methods of `cls`: on one instance, named after it."""
    instance = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    bound = ", ".join(f"{instance}.{method}" for method in _activity_methods(cls))
    return f"{instance} = {cls.__name__}(), then activities=[{bound}]"


def _not_a_workflow(value: Any) -> str:
    if isinstance(value, str):
        return (
            f"workflows=[...] holds the name {value!r}: pass the class itself, workflows=[{value}]"
        )
    if isinstance(value, type):
        return (
            f"{value.__name__} is not a workflow: put @workflow.defn above its class"
            f"{_then_run(value)}"
        )
    if inspect.isfunction(value) and "." in value.__qualname__:
        owner = value.__qualname__.rsplit(".", 1)[0]
        return (
            f"workflows=[...] holds the method {value.__qualname__}: pass the class itself, "
            f"workflows=[{owner}]"
        )
    if callable(value):
        return (
            f"{_name(value)} is a function, not a workflow class: workflows=[...] takes "
            "classes marked @workflow.defn (an activity goes in activities=[...])"
        )
    cls = type(value).__name__
    return f"workflows=[...] holds a {cls} object: pass the class itself, workflows=[{cls}]"


def _sandbox_refused(mistake: WorkerMistake) -> str:
    workflow, cause = mistake.subject
    if workflow.__module__ == "__main__":
        return (
            f"{workflow.__name__} is written in a notebook cell, but the sandbox that runs "
            "workflow code loads it from its file: write it to a .py file with %%writefile, "
            "import it from there, then register it"
        )
    refused = str(cause).splitlines()[0].split(". ")[0] if str(cause) else type(cause).__name__
    advice = ""
    if isinstance(cause, RestrictedWorkflowAccessError):  # module-level code, run on load
        advice = (
            " (the sandbox runs the module's top-level code too: move that call into an activity)"
        )
    return (
        f"the sandbox could not load {workflow.__name__} from {_file_of(workflow)}: "
        f"{refused}{advice}"
    )


def _then_run(defined: Any) -> str:
    """Where to make the fix: the cell again, or the cell that writes the module."""
    if getattr(defined, "__module__", "__main__") == "__main__":
        return ", then run the cell again"
    return f" in {_file_of(defined)}: {FIX_IN_FILE}"


def _file_of(defined: Any) -> str:
    try:
        source = inspect.getsourcefile(defined)
    except TypeError:  # a built-in: no file
        source = None
    return shown_path(source or defined.__module__)


def shown_path(path: str) -> str:
    """A file as the learner's cells name it: relative to the notebooks' folder."""
    where = Path(path)
    if where.is_absolute() and where.is_relative_to(Path.cwd()):
        return str(where.relative_to(Path.cwd()))
    return path


def _name(value: Any) -> str:
    return getattr(value, "__name__", None) or _short(value)


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _worker_arguments() -> list[str]:
    return [name for name in inspect.signature(Worker).parameters if name != "self"]
