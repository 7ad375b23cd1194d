started = events[events["event_type"] == "ActivityTaskStarted"]
answer = sorted(started[started["attempt"] > 1]["activity"].unique())
answer
