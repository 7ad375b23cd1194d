exercise_handle = await place_order(client, make_order(1200.0, new_order_id(),
                                                       approval_timeout_seconds=1))
answer = (await result_of(exercise_handle, timeout=30)).status
answer
