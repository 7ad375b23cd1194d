query = f"TaskQueue = '{MY_TASK_QUEUE}' AND TemporalChangeVersion = 'fraud-check'"
answer = [workflow.id async for workflow in client.list_workflows(query)]
answer
