@activity.defn(name="pick_items")  # the name the workflow calls
async def pick_items_resumable(pick_list: PickList) -> PickingReport:
    info = activity.info()
    # A retry gets the last heartbeat the server recorded; a first attempt gets nothing.
    resumed_from = info.heartbeat_details[0] if info.heartbeat_details else 0
    for unit in range(resumed_from + 1, pick_list.units + 1):
        await asyncio.sleep(SECONDS_PER_UNIT)  # to the shelf and back
        activity.heartbeat(unit)  # "alive, and `unit` units are picked"
    return PickingReport(pick_list.order_id, pick_list.units, info.attempt, resumed_from)


answer = pick_items_resumable
