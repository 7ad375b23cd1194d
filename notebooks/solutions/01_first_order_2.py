answer = len(events[events["event_type"] == "ActivityTaskScheduled"])
answer
