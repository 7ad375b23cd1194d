exercise_order = make_order(3000.0, new_order_id())
exercise_handle = await client.start_workflow(OrderWorkflow.run, exercise_order,
                                              id=f"order-workflow-{exercise_order.order_id}",
                                              task_queue=TASK_QUEUE)
answer = await asyncio.wait_for(exercise_handle.execute_update(OrderWorkflow.decide, False),
                                timeout=10)
answer
