await stop_worker()
exercise_process = running_worker_process()
exercise_order = make_order(ORDER_AMOUNT, new_order_id("KILL"), mock_delay_seconds=DELAY)
exercise = await place_order(client, exercise_order)
await approve_if_waiting(exercise)
await kill_during(exercise_process, exercise, "initiate_delivery")
await start_worker(client)
print((await result_of(exercise, timeout=RECOVERY_SECONDS)).message)
frame = await fetch_history_frame(exercise)
started = frame[(frame["event_type"] == "ActivityTaskStarted")
                & (frame["activity"] == "initiate_delivery")]
answer = int(started["attempt"].iloc[0])
print("Ledger entries:", ledger.entries_frame(exercise_order.order_id)["kind"].tolist())
answer
