exercise_order = make_order(250.0, new_order_id())
answer = await result_of(await place_order(client, exercise_order), timeout=30)
answer
