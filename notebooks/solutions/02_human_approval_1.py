%%writefile gift_note.py
"""A gift note for an order: the customer may add one while the order waits."""
from datetime import timedelta

from temporalio import workflow


@workflow.defn
class GiftNoteWorkflow:
    def __init__(self) -> None:
        self.note = ""

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.note != "", timeout=timedelta(seconds=30))
        return self.note

    @workflow.signal
    def add_note(self, note: str) -> None:
        self.note = note

    @workflow.query
    def get_note(self) -> str:
        return self.note
