exercise_handle = await place_order(client, make_order(3000.0, new_order_id()))
answer = await decide(exercise_handle, False)
answer
