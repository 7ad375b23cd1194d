order = make_order(250, new_order_id("SHIP"), fail_at="delivery", transient_failures=1)
result = await result_of(await place_order(client, order), timeout=30)
print(result.status, "-", result.message)
answer = ledger.entries_frame(order.order_id)["kind"].tolist()
answer
