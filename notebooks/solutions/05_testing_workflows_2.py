@activity.defn(name="initiate_delivery")
async def refused_delivery(order: Order) -> str:
    raise ApplicationError("no carrier can take the parcel", type="DeliveryUnavailable",
                           non_retryable=True, category=ApplicationErrorCategory.BENIGN)


order = make_order(250.0, new_order_id())
async with await WorkflowEnvironment.start_time_skipping(test_server_existing_path=TEST_SERVER) as env:
    async with Worker(env.client, task_queue=TEST_QUEUE, workflows=[OrderWorkflow],
                      activities=[reserve_inventory, process_payment, refused_delivery,
                                  refund_payment, release_inventory]):
        result = await asyncio.wait_for(
            env.client.execute_workflow(OrderWorkflow.run, order, id=f"order-workflow-{order.order_id}",
                                        task_queue=TEST_QUEUE),
            timeout=WAIT_SECONDS)
answer = result.compensations
answer
