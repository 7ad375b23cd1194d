%%writefile errors_lab/review.py
"""Authorize a payment: retry what may pass, hold for review what will not."""
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from errors_lab.shop import authorize

AUTHORIZE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=0.2), maximum_attempts=3,
                              non_retryable_error_types=["FraudSuspected"])


@workflow.defn
class Authorize:
    @workflow.run
    async def run(self, amount: float) -> str:
        try:
            return await workflow.execute_activity(
                authorize, amount, start_to_close_timeout=timedelta(seconds=5),
                retry_policy=AUTHORIZE_RETRY)
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == "FraudSuspected":
                return "held for review"
            raise
