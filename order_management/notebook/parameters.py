"""The parameters cell: every knob of a notebook, checked before the notebook starts
anything, with one line naming each value to fix."""

from __future__ import annotations

import math
from typing import Any

from order_management.errors import WorkshopError
from order_management.notebook.kernel_worker import prepare_shell
from order_management.shared import make_order, order_problems


class InvalidParameter(WorkshopError, ValueError):
    """A value in the parameters cell that the notebook cannot use; the message names it."""


_ORDER_KNOBS = {
    "FAIL_STEP": "fail_at",
    "TRANSIENT_FAILURES": "transient_failures",
    "APPROVAL_TIMEOUT_SECONDS": "approval_timeout_seconds",
    "MOCK_DELAY_SECONDS": "mock_delay_seconds",
}
"""Parameters that become a field of the order: the order's own rules judge them."""


def check_parameters(**parameters: Any) -> None:
    """Refuse the parameters cell's values before the notebook starts anything: one line
    naming each value to fix. Amounts (`*_AMOUNT`) and waits (`*_SECONDS`) must be numbers,
    `APPROVE` True, False or None; the order's knobs follow the order's own rules."""
    prepare_shell()  # the first call of a notebook: its refusal shows as one line too
    problems = [
        f"{name} = {value!r}: {problem}"
        for name, value in parameters.items()
        for problem in _parameter_problems(name, value)
    ]
    if problems:
        raise InvalidParameter(
            "Fix the parameters cell, then run it and this cell again: " + "; ".join(problems)
        )


def _parameter_problems(name: str, value: Any) -> list[str]:
    if name == "APPROVE":
        return [] if value in (True, False, None) else ["use True, False or None"]
    if name != "FAIL_STEP" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return [
            "must be a number, without quotes"
            if isinstance(value, str)
            else f"must be a number, not {type(value).__name__}"
        ]
    if name in _ORDER_KNOBS:
        return order_problems(make_order(100.0, **{_ORDER_KNOBS[name]: value}))
    if name.endswith("_AMOUNT"):  # the order's rules, said in the parameter's words
        return (
            ["must be a finite amount of dollars above 0"]
            if order_problems(make_order(value))
            else []
        )
    return [] if math.isfinite(value) and value >= 0 else ["must be a number, 0 or more"]
