answer = len(history[history["event_type"] == "ActivityTaskScheduled"])
answer
