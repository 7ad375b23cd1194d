order = make_order(1500.0, new_order_id())
async with await WorkflowEnvironment.start_time_skipping(test_server_existing_path=TEST_SERVER) as env:
    async with Worker(env.client, task_queue=TEST_QUEUE, workflows=[OrderWorkflow],
                      activities=[reserve_inventory, process_payment, initiate_delivery,
                                  refund_payment, release_inventory]):
        handle = await env.client.start_workflow(OrderWorkflow.run, order,
                                                 id=f"order-workflow-{order.order_id}", task_queue=TEST_QUEUE)
        await env.sleep(DEFAULT_APPROVAL_TIMEOUT_SECONDS - 60)  # one minute before the timeout
        waiting = await handle.query(OrderWorkflow.get_status)
        await handle.signal(OrderWorkflow.approve_order, True)
        result = await asyncio.wait_for(handle.result(), timeout=WAIT_SECONDS)
answer = (waiting, result.status)
answer
