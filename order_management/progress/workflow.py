"""The learner's progress as an entity workflow: state held by a workflow that never ends.

An entity workflow stands for one thing (here, a learner) for as long as it exists. Messages
change it (signals: a notebook opened or finished, an exercise passed, an error seen) and a
query reads it. Every signal adds events to its history, so after `MAX_HISTORY_EVENTS` it
continues as new: a fresh run of the same workflow id, started with the state so far, its
history short again.

Each change is also written to the workflow's memo (`PROGRESS_MEMO`), which `describe()`
returns without a worker: the instructor's view reads it while the learner's kernel is down.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from temporalio import workflow

PROGRESS_WORKFLOW_ID = "learner-progress"
PROGRESS_TASK_QUEUE = "learner-progress"
# Far below Temporal's 50K-event limit, and short enough to replay in an instant after a
# kernel restart; the server's own suggestion (`is_continue_as_new_suggested`) comes later.
MAX_HISTORY_EVENTS = 500
ERROR_LENGTH = 300
PROGRESS_MEMO = "progress"


@dataclass
class Progress:
    """What a learner has done so far, by notebook file name."""

    opened: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    passed: dict[str, list[str]] = field(default_factory=dict)
    """The tasks of the exercises passed, per notebook."""
    current: str | None = None
    """The notebook the learner opened or worked in last."""
    last_error: str | None = None
    last_error_notebook: str | None = None


@dataclass(frozen=True)
class ExercisePassed:
    notebook: str
    task: str


@dataclass(frozen=True)
class ErrorSeen:
    notebook: str
    line: str


@workflow.defn
class LearnerProgress:
    """Holds one learner's `Progress`. Signals: `notebook_opened`, `notebook_finished`,
    `exercise_passed`, `error_seen`. Query: `progress`."""

    # `@workflow.init`: the state a run continues from is in place before any handler runs. A
    # signal can arrive in the new run's first workflow task, and its handler may run before
    # `run` does: had `run` set the state, it would overwrite that signal's update.
    @workflow.init
    def __init__(self, state: Progress | None = None) -> None:
        self.state = state if state is not None else Progress()

    @workflow.run
    async def run(self, state: Progress | None = None) -> None:
        self._publish()
        # Waits until the history is long; the signals below run meanwhile, one at a time.
        await workflow.wait_condition(
            lambda: (
                (
                    workflow.info().get_current_history_length() >= MAX_HISTORY_EVENTS
                    or workflow.info().is_continue_as_new_suggested()
                )
                and workflow.all_handlers_finished()
            )
        )
        workflow.continue_as_new(self.state)

    @workflow.signal
    def notebook_opened(self, notebook: str) -> None:
        if notebook not in self.state.opened:
            self.state.opened.append(notebook)
        self.state.current = notebook
        self._publish()

    @workflow.signal
    def notebook_finished(self, notebook: str) -> None:
        if notebook not in self.state.finished:
            self.state.finished.append(notebook)
        self.state.current = notebook
        self._publish()

    @workflow.signal
    def exercise_passed(self, passed: ExercisePassed) -> None:
        tasks = self.state.passed.setdefault(passed.notebook, [])
        if passed.task not in tasks:
            tasks.append(passed.task)
        self.state.current = passed.notebook
        self._publish()

    @workflow.signal
    def error_seen(self, error: ErrorSeen) -> None:
        self.state.last_error = error.line[:ERROR_LENGTH]
        self.state.last_error_notebook = error.notebook
        self._publish()

    @workflow.query
    def progress(self) -> Progress:
        return self.state

    def _publish(self) -> None:
        workflow.upsert_memo({PROGRESS_MEMO: asdict(self.state)})
