"""One clock for every bounded wait: a deadline on the monotonic clock.

Every wait in the workshop is bounded (a cell must never hang), and each one polls until
something is true or its time is up. `Deadline` is that time: monotonic, so a wall clock set
back or forward (NTP, a laptop waking up) neither ends a wait early nor stretches it.
`ANSWER_TIMEOUT_SECONDS` bounds the waits for a worker's answer.
"""

from __future__ import annotations

import time

ANSWER_TIMEOUT_SECONDS = 20.0
"""How long a cell waits for a worker's answer to a query or an update. Longer than a workflow
task's timeout (the server's default, 10 s): the answer waits for the order's current workflow
task, and a kernel that ended while its worker held that task, without stopping the worker
(killed, crashed, or busy past its shutdown grace), only gives it back after those 10 s. The
worker may be another notebook's kernel's: all of them poll the same task queue."""


class Deadline:
    """The moment `seconds` from now. Poll with `while not deadline.passed: ...`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the deadline was set."""
        return time.monotonic() - self._started

    @property
    def remaining(self) -> float:
        """Seconds left, never below 0."""
        return max(0.0, self.seconds - self.elapsed)

    @property
    def passed(self) -> bool:
        return self.elapsed >= self.seconds
