"""Notifications: telling the customer what happened, as one more activity.

Sending an email or a text is a side effect like charging a card, so it is an activity and
it is idempotent: Temporal runs an activity at least once, and a customer must not get the
same message twice. The mock "outbox" is a table next to the ledger's (same SQLite file),
keyed by the activity's workflow run and activity id, so a retried send finds the first
one's row.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio import activity

from order_management.ledger import LedgerFile, new_reference

if TYPE_CHECKING:
    import pandas as pd

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    notification_id TEXT PRIMARY KEY,
    workflow_id     TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    activity_id     TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    UNIQUE (workflow_id, run_id, activity_id)
);
"""

COLUMNS = ["notification_id", "workflow_id", "customer_id", "subject", "body", "sent_at"]


@dataclass
class Notification:
    """A message for a customer."""

    customer_id: str
    subject: str
    body: str


@dataclass(frozen=True)
class SendKey:
    """The idempotency key of one send: one activity of one workflow run."""

    workflow_id: str
    run_id: str
    activity_id: str


class Outbox:
    """The mock mail server: every notification sent, in the ledger's SQLite file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._file = LedgerFile(path, _SCHEMA)
        self.path = self._file.path

    def send(self, key: SendKey, notification: Notification) -> str:
        """Record the notification once; returns its id (the first send's, on a retry)."""
        with self._file.transaction() as db:  # the insert and the read agree
            db.execute(
                "INSERT OR IGNORE INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_reference("MSG", 8),
                    key.workflow_id,
                    key.run_id,
                    key.activity_id,
                    notification.customer_id,
                    notification.subject,
                    notification.body,
                    datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                ),
            )
            (notification_id,) = db.execute(
                "SELECT notification_id FROM notifications"
                " WHERE workflow_id = ? AND run_id = ? AND activity_id = ?",
                (key.workflow_id, key.run_id, key.activity_id),
            ).fetchone()
        return notification_id

    def frame(self, customer_id: str | None = None) -> pd.DataFrame:
        """Every notification sent (to one customer, if given), oldest first."""
        import pandas as pd

        query = f"SELECT {', '.join(COLUMNS)} FROM notifications"
        params: tuple = ()
        if customer_id is not None:
            query += " WHERE customer_id = ?"
            params = (customer_id,)
        with self._file.transaction() as db:
            rows = db.execute(query + " ORDER BY sent_at, rowid", params).fetchall()
        frame = pd.DataFrame(rows, columns=COLUMNS)
        frame["sent_at"] = pd.to_datetime(frame["sent_at"])
        return frame


@activity.defn
async def send_notification(notification: Notification) -> str:
    """Send the customer a message; returns the notification id."""
    info = activity.info()
    key = SendKey(info.workflow_id or "", info.workflow_run_id or "", info.activity_id)
    notification_id = await asyncio.to_thread(Outbox().send, key, notification)
    activity.logger.info(
        "Sent %s to %s: %s", notification_id, notification.customer_id, notification.subject
    )
    return notification_id
