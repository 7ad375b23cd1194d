order = make_order(250, new_order_id("SHIP"), fail_at="delivery", transient_failures=1)
handle = await client.start_workflow(OrderWorkflow.run, order,
                                     id=f"order-workflow-{order.order_id}",
                                     task_queue=TASK_QUEUE)
result = await asyncio.wait_for(handle.result(), timeout=30)
print(result.status, "-", result.message)
answer = ledger.entries_frame(order.order_id)["kind"].tolist()
answer
