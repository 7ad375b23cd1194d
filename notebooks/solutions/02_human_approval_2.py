exercise_order = make_order(1200.0, new_order_id(), approval_timeout_seconds=1)
exercise_handle = await client.start_workflow(OrderWorkflow.run, exercise_order,
                                              id=f"order-workflow-{exercise_order.order_id}",
                                              task_queue=TASK_QUEUE)
answer = (await asyncio.wait_for(exercise_handle.result(), timeout=30)).status
answer
