"""Histories: reading what Temporal recorded about a workflow, event by event.

A workflow's history is the source of truth Temporal replays to recover it. These helpers
turn it into something a person (or a test) can read.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory


def scheduled_activities(history: WorkflowHistory) -> list[str]:
    """The activity names the workflow scheduled, in order."""
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
