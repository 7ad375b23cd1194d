%%writefile my_shop/bundle.py
"""A gift bundle: several orders, each run as a child OrderWorkflow, all at once."""
import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from order_management.shared import Order
    from order_management.workflow import OrderWorkflow


@workflow.defn
class GiftBundle:
    @workflow.run
    async def run(self, orders: list[Order]) -> list[str]:
        results = await asyncio.gather(*(
            workflow.execute_child_workflow(OrderWorkflow.run, order,
                                            id=f"order-workflow-{order.order_id}")
            for order in orders))
        return [result.status for result in results]
