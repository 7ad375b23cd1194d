await stop_worker()
exercise_process = running_worker_process()
exercise_order = make_order(ORDER_AMOUNT, new_order_id("KILL"), mock_delay_seconds=DELAY)
exercise = await client.start_workflow(OrderWorkflow.run, exercise_order,
                                       id=f"order-workflow-{exercise_order.order_id}",
                                       task_queue=TASK_QUEUE)
if exercise_order.requires_approval:
    await exercise.signal(OrderWorkflow.approve_order, True)
await kill_during(exercise_process, exercise, "initiate_delivery")
await start_worker(client)
print((await asyncio.wait_for(exercise.result(), timeout=RECOVERY_SECONDS)).message)
frame = history_frame(await exercise.fetch_history())
started = frame[(frame["event_type"] == "ActivityTaskStarted")
                & (frame["activity"] == "initiate_delivery")]
answer = int(started["attempt"].iloc[0])
print(f"Ledger entries: {ledger.entries_frame(exercise_order.order_id)['kind'].tolist()}")
answer
