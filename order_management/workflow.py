"""Workflows: the deterministic code Temporal runs and can recover.

`OrderWorkflow` takes one order through its business steps:

1. Orders over $1000 wait for a human decision (the `approve_order` signal or the `decide`
   update), for at most the order's approval timeout (5 minutes by default).
2. reserve_inventory -> process_payment -> initiate_delivery, each an activity.
3. When a step fails for good, the steps that succeeded are undone in reverse order
   (a saga): refund_payment, then release_inventory.

Queries (`get_status`, `requires_approval`, `get_progress`) read its state at any time.

Any client can start it or send it messages, not only this package's typed calls: the
temporal CLI, the Web UI, another language. Input that is no order fails the workflow at
once, and a message that is no decision is ignored and listed by `get_progress`; neither
leaves the order stuck.

Everything here is replayed from history when a worker recovers an order, so it must be
deterministic: no clocks, randomness or I/O; those belong in activities.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

# Modules the workflow uses but does not need re-imported in the sandbox for every run.
with workflow.unsafe.imports_passed_through():
    from order_management.activities import (
        initiate_delivery,
        process_payment,
        refund_payment,
        release_inventory,
        reserve_inventory,
    )
    from order_management.shared import (
        NO_ORDER,
        InvalidOrder,
        Order,
        OrderProgress,
        OrderResult,
        OrderStatus,
        Step,
        StepRecord,
        json_preview,
        order_problems,
        validate_order,
    )

STEP_TIMEOUT = timedelta(seconds=10)
"""How long one service call may take (on top of the order's mock delay) before a retry."""

STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=2),
)
"""Retry a step until it succeeds or fails for good (a non-retryable error). No attempt
limit: a step that has stopped retrying has then surely done nothing (our mock services
refuse before they act; a real service may fail after a partial effect, and its undo must
then cover that), so only the steps that succeeded need undoing. Short intervals keep a
workshop demo snappy."""

COMPENSATION_RETRY = STEP_RETRY
"""An undo must never be given up on: money and stock would be lost."""


@dataclass(frozen=True)
class _Step:
    name: str
    """The failure-flag name of the step: inventory, payment or delivery."""
    status: str
    action: Callable[..., Any]
    undo: Callable[..., Any] | None


STEPS = (
    _Step(Step.INVENTORY, OrderStatus.RESERVING_INVENTORY, reserve_inventory, release_inventory),
    _Step(Step.PAYMENT, OrderStatus.PROCESSING_PAYMENT, process_payment, refund_payment),
    _Step(Step.DELIVERY, OrderStatus.INITIATING_DELIVERY, initiate_delivery, None),
)


def refuse_if_invalid(order: Order) -> None:
    """Fail the workflow when the order is invalid, before any activity.

    In the Python SDK an ApplicationError raised by workflow code fails the workflow
    execution, whatever `non_retryable` says; any other exception fails only the workflow
    task, which Temporal retries, leaving the order Running. `non_retryable` matters only
    for a workflow started with a retry policy: it is then not run again."""
    try:
        validate_order(order)
    except InvalidOrder as err:
        workflow.logger.warning("%s; the workflow fails before any step", err)
        raise ApplicationError(str(err), type="InvalidOrder", non_retryable=True) from None


def _message(name: str, values: tuple[Any, ...]) -> str:
    """How a signal or update call looks in a sentence: approve_order("yes")."""
    return f"{name}({', '.join(json_preview(value) for value in values)})"


def _decision(values: tuple[Any, ...]) -> bool | None:
    """The one true or false a decision carries; None for anything else (no value, two
    values, a value that is no boolean)."""
    return values[0] if len(values) == 1 and isinstance(values[0], bool) else None


@workflow.defn
class OrderWorkflow:
    """One customer order, from approval to delivery, with compensation on failure.

    Messages:
    - signal `approve_order(approved)`: the approver's decision, true or false (fire and
      forget). Any other value is ignored, and listed by `get_progress`.
    - update `decide(approved) -> str`: the same decision, but the caller learns at once
      whether it was accepted; its validator refuses a value that is not true or false, and
      any decision when none is pending.
    - queries `get_status()`, `requires_approval()`, `get_progress()`.
    """

    @workflow.init
    def __init__(self, order: Order = NO_ORDER) -> None:
        # @workflow.init sees the input before any signal or query is handled, so
        # requires_approval() is right even when asked before the first step runs.
        # NO_ORDER stands in when a client sent no input at all: run() refuses it.
        self._order = order
        self._status = OrderStatus.INVALID if order_problems(order) else OrderStatus.PENDING
        self._decision: str | None = None
        self._steps_done: list[StepRecord] = []
        self._compensations_run: list[str] = []
        self._failed_step: str | None = None
        self._failure_reason: str | None = None
        self._ignored_messages: list[str] = []

    @workflow.run
    async def run(self, order: Order = NO_ORDER) -> OrderResult:
        refuse_if_invalid(order)
        if order.requires_approval:
            refusal = await self._wait_for_approval()
            if refusal:
                return refusal
        return await self._fulfil()

    async def _wait_for_approval(self) -> OrderResult | None:
        """Wait for the decision; returns the final result if the order will not go ahead."""
        self._status = OrderStatus.AWAITING_APPROVAL
        timeout = timedelta(seconds=self._order.approval_timeout_seconds)
        try:
            # A durable timer: the wait survives worker restarts, and the timeout shows in
            # the history as TimerStarted / TimerFired.
            await workflow.wait_condition(
                lambda: self._decision is not None,
                timeout=timeout,
                timeout_summary="approval timeout",
            )
        except asyncio.TimeoutError:
            self._decision = "timed_out"
            self._status = OrderStatus.APPROVAL_TIMED_OUT
            return OrderResult(
                status=self._status,
                message=f"No approval within {timeout.total_seconds():g} seconds; "
                "nothing was reserved or charged",
            )
        if self._decision == "rejected":
            self._status = OrderStatus.REJECTED
            return OrderResult(
                status=self._status,
                message="Order rejected by the approver; nothing was reserved or charged",
            )
        self._status = OrderStatus.APPROVED
        return None

    async def _fulfil(self) -> OrderResult:
        done: list[_Step] = []
        for step in STEPS:
            self._status = step.status
            try:
                reference = await workflow.execute_activity(
                    step.action,
                    self._order,
                    start_to_close_timeout=STEP_TIMEOUT
                    + timedelta(seconds=self._order.mock_delay_seconds),
                    retry_policy=STEP_RETRY,
                )
            except ActivityError as err:
                return await self._compensate(step, err, done)
            self._steps_done.append(StepRecord(activity=step.action.__name__, reference=reference))
            done.append(step)
        self._status = OrderStatus.COMPLETED
        reservation_id, transaction_id, tracking_number = (s.reference for s in self._steps_done)
        return OrderResult(
            status=self._status,
            message="Order processed successfully",
            transaction_id=transaction_id,
            reservation_id=reservation_id,
            tracking_number=tracking_number,
        )

    async def _compensate(
        self, failed: _Step, error: ActivityError, done: list[_Step]
    ) -> OrderResult:
        """Undo the steps that succeeded, most recent first."""
        self._status = OrderStatus.COMPENSATING
        self._failed_step = failed.name
        cause = error.cause
        self._failure_reason = cause.message if isinstance(cause, FailureError) else str(error)
        for step in reversed(done):
            if step.undo is None:
                continue
            await workflow.execute_activity(
                step.undo,
                self._order,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=COMPENSATION_RETRY,
            )
            self._compensations_run.append(step.undo.__name__)
        self._status = OrderStatus.COMPENSATED
        undone = ", ".join(self._compensations_run) or "nothing to undo"
        return OrderResult(
            status=self._status,
            message=f"Order compensated: the {failed.name} step failed: "
            f"{self._failure_reason}. Rolled back: {undone}",
            failed_step=failed.name,
            failure_reason=self._failure_reason,
            compensations=list(self._compensations_run),
        )

    # -- messages ------------------------------------------------------------------------

    def _decision_pending(self) -> bool:
        return (
            self._order.requires_approval
            and self._decision is None
            and self._status in (OrderStatus.PENDING, OrderStatus.AWAITING_APPROVAL)
        )

    def _ignore(self, sentence: str, level: int) -> None:
        self._ignored_messages.append(sentence)
        workflow.logger.log(level, sentence)

    # The decision arrives as `*values: Any`, not one `approved: bool`: a client may send
    # any JSON, or nothing, or several values (the CLI's `--input` twice, another language's
    # `signal('approve_order', true, 'ok')`). Typed bool, the SDK would drop a "yes" before
    # the handler runs (only the worker's log says so; the sender and the history never
    # learn), and no value or a second one would raise a TypeError that fails every workflow
    # task of the order, for good. Here the handlers see whatever came and judge it.
    @workflow.signal
    def approve_order(self, *values: Any) -> None:
        """The approver's decision, true or false. Only the first one counts; later ones,
        and values that are no decision, are ignored (and listed by get_progress)."""
        call = _message("approve_order", values)
        approved = _decision(values)
        if approved is None:  # the sender's mistake: worth a warning
            self._ignore(f"{call} ignored: approve_order takes true or false", logging.WARNING)
        elif self._decision_pending():
            self._decision = "approved" if approved else "rejected"
        else:  # routine: a second approver, or a decision after the timeout
            self._ignore(
                f"{call} ignored: no decision pending (already {self._decision or self._status})",
                logging.INFO,
            )

    @workflow.update
    def decide(self, *values: Any) -> str:
        """The approver's decision as an Update: returns "approved" or "rejected". The
        validator has made sure `values` is one true or false."""
        self._decision = "approved" if _decision(values) else "rejected"
        return self._decision

    @decide.validator
    def _validate_decision(self, *values: Any) -> None:
        # A rejected update leaves no trace in the history, unlike a signal.
        if _decision(values) is None:
            raise ValueError(f"{_message('decide', values)} refused: decide takes true or false")
        if not self._order.requires_approval:
            raise ValueError(f"Order {self._order.order_id} does not need approval")
        if not self._decision_pending():
            made = self._decision or self._status
            raise ValueError(
                f"Order {self._order.order_id} is no longer waiting for a decision (already {made})"
            )

    @workflow.query
    def get_status(self) -> str:
        return self._status

    @workflow.query
    def requires_approval(self) -> bool:
        return self._order.requires_approval

    @workflow.query
    def get_progress(self) -> OrderProgress:
        return OrderProgress(
            order_id=self._order.order_id,
            status=self._status,
            requires_approval=self._order.requires_approval,
            approval_decision=self._decision,
            steps_done=list(self._steps_done),
            compensations_run=list(self._compensations_run),
            failed_step=self._failed_step,
            failure_reason=self._failure_reason,
            ignored_messages=list(self._ignored_messages),
        )
