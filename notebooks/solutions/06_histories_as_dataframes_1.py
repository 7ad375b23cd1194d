async def replays(history: WorkflowHistory) -> bool:
    """Whether `history` replays on today's OrderWorkflow code (a CI replay test's check)."""
    replayer = Replayer(workflows=[OrderWorkflow])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure is None
