"""Exercise workflows: the small workflows the core notebooks' exercises run the learner's code in.

Workflows: deterministic code the worker runs in the sandbox, so they live in a real module (a
notebook cell has no file for the sandbox to re-import). Each one calls what the learner wrote:

- `ConfirmationWorkflow` (01) calls the activity `send_confirmation` by its name, since the
  learner defines that activity in a cell and registers it on their own `Worker`;
- `PaymentTrialWorkflow` (03) runs `charge_card_trial` with the learner's retry policy, sent as
  a `RetryChoice`.

At the top of the package, not under `notebook/`: the sandbox imports a workflow module's
parent packages too (sdk-python issue #453), and `notebook/` imports IPython and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from order_management.shared import Order

CONFIRMATION_ACTIVITY = "send_confirmation"
CONFIRMATION_TIMEOUT = timedelta(seconds=5)
"""How long one attempt of the learner's activity may take: long enough for any quick answer,
short enough that a blocked one is noticed within the exercise's wait."""
CONFIRMATION_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=2)
"""Two attempts, then the workflow fails with the activity's error: a mistake shows at once
instead of being retried forever."""


@workflow.defn
class ConfirmationWorkflow:
    """Confirms an order: runs the activity named `send_confirmation` and returns its answer."""

    @workflow.run
    async def run(self, order: Order) -> str:
        return await workflow.execute_activity(
            CONFIRMATION_ACTIVITY,
            order,
            start_to_close_timeout=CONFIRMATION_TIMEOUT,
            retry_policy=CONFIRMATION_RETRY,
        )


@dataclass(frozen=True)
class RetryChoice:
    """A `RetryPolicy`, in plain values that travel as JSON into a workflow."""

    initial_interval_seconds: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval_seconds: float | None = None
    maximum_attempts: int = 0
    non_retryable_error_types: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, policy: RetryPolicy) -> RetryChoice:
        return cls(
            initial_interval_seconds=policy.initial_interval.total_seconds(),
            backoff_coefficient=policy.backoff_coefficient,
            maximum_interval_seconds=(
                policy.maximum_interval.total_seconds() if policy.maximum_interval else None
            ),
            maximum_attempts=policy.maximum_attempts,
            non_retryable_error_types=list(policy.non_retryable_error_types or []),
        )

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=timedelta(seconds=self.initial_interval_seconds),
            backoff_coefficient=self.backoff_coefficient,
            maximum_interval=(
                timedelta(seconds=self.maximum_interval_seconds)
                if self.maximum_interval_seconds
                else None
            ),
            maximum_attempts=self.maximum_attempts,
            non_retryable_error_types=self.non_retryable_error_types or None,
        )


@dataclass(frozen=True)
class PaymentTrial:
    """A payment that fails `failures` times with an `ApplicationError` of type `error_type`."""

    error_type: str
    failures: int
    retry: RetryChoice


@activity.defn
async def charge_card_trial(trial: PaymentTrial) -> str:
    """A bank that answers `error_type` for the first `failures` attempts. The error is
    retryable: only the retry policy's `non_retryable_error_types` can stop the retries."""
    attempt = activity.info().attempt
    if attempt <= trial.failures:
        raise ApplicationError(f"{trial.error_type} (attempt {attempt})", type=trial.error_type)
    return f"charged on attempt {attempt}"


@workflow.defn
class PaymentTrialWorkflow:
    """Charges a card with the learner's retry policy; returns what the bank answered."""

    @workflow.run
    async def run(self, trial: PaymentTrial) -> str:
        return await workflow.execute_activity(
            charge_card_trial,
            trial,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=trial.retry.policy(),
        )
