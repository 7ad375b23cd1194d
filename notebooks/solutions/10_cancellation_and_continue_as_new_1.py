%%writefile cancel_lab/hold.py
"""Hold an item for a customer for an hour; release it if the hold is cancelled."""
import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from cancel_lab.packing import release_stock


@workflow.defn
class HoldStock:
    @workflow.run
    async def run(self, order_id: str) -> str:
        try:
            await workflow.sleep(3600)
        except asyncio.CancelledError:
            await workflow.execute_activity(release_stock, order_id,
                                            start_to_close_timeout=timedelta(seconds=10))
            raise  # ends the workflow as Canceled
        return "expired"
