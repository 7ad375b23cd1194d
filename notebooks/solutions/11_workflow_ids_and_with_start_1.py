async def add_to_cart(customer: str, item: str) -> int:
    """Add `item` to `customer`'s cart, starting the cart if it is not running."""
    start = WithStartWorkflowOperation(Cart.run, customer, id=f"cart-{customer}",
                                       task_queue=LAB_QUEUE,
                                       id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    return await client.execute_update_with_start_workflow(Cart.add_and_count, item,
                                                           start_workflow_operation=start)
