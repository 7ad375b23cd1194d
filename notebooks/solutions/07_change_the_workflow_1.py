%%writefile my_shop/next_stage.py
"""My shop's order: check the stock, wait for a person's approval, charge the card, ship."""
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

# Activities are plain Python: the sandbox may use them as they are, not import them again.
with workflow.unsafe.imports_passed_through():
    from my_shop.activities import (charge_card, check_fraud, check_stock, send_receipt,
                                   ship_parcel)

STEP_TIMEOUT = timedelta(seconds=10)          # one attempt of a step may take this long
STEP_RETRY = RetryPolicy(maximum_attempts=3)  # then the step, and the order, fail


@workflow.defn
class ShopOrder:
    def __init__(self) -> None:
        self.status = "started"
        self.approved: bool | None = None

    @workflow.run
    async def run(self, order_id: str) -> str:
        workflow.deprecate_patch("fraud-check")  # every order left has the patch
        await self.step(check_fraud, order_id)
        await self.step(check_stock, order_id)
        self.status = "awaiting approval"
        await workflow.wait_condition(lambda: self.approved is not None)
        self.status = "approved" if self.approved else "rejected"
        if not self.approved:
            return "rejected"
        await self.step(charge_card, order_id)
        tracking = await self.step(ship_parcel, order_id)
        await self.step(send_receipt, order_id)
        return tracking

    async def step(self, action: Callable[[str], Awaitable[str]], order_id: str) -> str:
        """One step of the order: an activity, with the timeout and retries above."""
        return await workflow.execute_activity(
            action, order_id, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)

    @workflow.signal
    def approve(self, approved: bool) -> None:
        self.approved = approved

    @workflow.query
    def get_status(self) -> str:
        return self.status
