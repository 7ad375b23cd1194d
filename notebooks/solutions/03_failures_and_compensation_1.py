started = flaky_frame[(flaky_frame["event_type"] == "ActivityTaskStarted")
                      & (flaky_frame["activity"] == "process_payment")]
answer = int(started["attempt"].iloc[0])
answer
