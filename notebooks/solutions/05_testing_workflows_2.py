async def test_pick_items_goes_on_from_its_last_heartbeat():
    env = ActivityEnvironment()
    # A retry: the server hands attempt 2 the details of attempt 1's last heartbeat.
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[7])
    heartbeats = []
    env.on_heartbeat = lambda *details: heartbeats.append(details[0])
    report = await env.run(pick_items, PickList(new_order_id("TEST"), units=10))
    assert report.resumed_from == 7
    assert heartbeats == [8, 9, 10]


answer = test_pick_items_goes_on_from_its_last_heartbeat
