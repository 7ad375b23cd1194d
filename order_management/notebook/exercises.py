""" "Your turn" exercises: a check cell under each exercise, with a hint when not yet right."""

from __future__ import annotations

from typing import Any

from order_management.notebook.cell_errors import BriefError
from order_management.progress import record as progress


class NotYet(BriefError, AssertionError):
    """An exercise's answer is not right yet; the message holds a hint."""


def self_check(answer: Any, expected: Any, *, hint: str, task: str | None = None) -> None:
    """Check an exercise's `answer` against `expected` (a value, or a function returning
    True for a right answer).

    An untouched placeholder (`...`) only prints the task, so Run All stays green for a
    learner who skips the exercise; a wrong answer raises `NotYet` with the hint.
    """
    if answer is Ellipsis:
        print(
            f"Your turn: {task or 'replace the ... in the exercise cell above'}. "
            "Then run this cell again to check your answer."
        )
        return
    right = expected(answer) if callable(expected) else answer == expected
    if not right:
        raise NotYet(f"Not quite yet (your answer: {answer!r}). Hint: {hint}")
    print("Well done: that is right!")
    progress.exercise_passed(task or hint)
