"""The ledger: the shop's books, where the mock services record every effect they have.

Inventory, payment and delivery are mocks, but their effects are real rows in a small SQLite
database (WAL mode, so a worker in another process and a notebook can share it): stock per
product, and one entry per reservation, release, charge, refund and shipment. The ledger is
how the workshop proves that Temporal's at-least-once retries plus an idempotent ledger charge
each order exactly once, and that whatever a failed order took is given back.

Each operation is idempotent. It is keyed by the order's workflow run and the kind of
operation: when Temporal retries an activity (or re-delivers it to another worker after a
crash), the second call finds the first one's entry and returns the same reference instead
of reserving, charging or shipping again.

Run `python -m order_management.ledger` to print the books, `--json` for every entry.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sqlite3
import string
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from order_management.errors import WorkshopError
from order_management.local import config
from order_management.shared import OrderItem

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_STOCK = 10_000
"""Units a product has on hand the first time the shop sees it."""

ENTRY_KINDS = ("reserve", "release", "charge", "refund", "ship")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    product_id TEXT PRIMARY KEY,
    on_hand    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    entry_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('reserve', 'release', 'charge', 'refund', 'ship')),
    reference   TEXT NOT NULL,
    product_id  TEXT,
    quantity    INTEGER,
    amount      REAL,
    recorded_at TEXT NOT NULL
);
-- One operation of each kind per order run (a reservation may have several item lines).
CREATE TABLE IF NOT EXISTS operations (
    order_id  TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (order_id, run_id, kind)
);
"""


class OutOfStock(WorkshopError):
    """A reservation asked for more units than the shop has."""


@dataclass(frozen=True)
class OrderRun:
    """The idempotency key of every ledger operation: one run of one order's workflow."""

    order_id: str
    run_id: str


def new_reference(prefix: str, length: int) -> str:
    """A reference like TXN-7K2Q9XJD: a prefix and `length` uppercase letters or digits."""
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "-" + "".join(secrets.choice(alphabet) for _ in range(length))


class LedgerFile:
    """The ledger's SQLite file, opened one way by everything that keeps its books there
    (the ledger's own tables, the warehouse's picks, the outbox of notifications)."""

    def __init__(self, path: Path | str | None, schema: str) -> None:
        self.path = Path(path) if path else config.ledger_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            # WAL: a worker in another process and a notebook read and write it side by side.
            db.execute("PRAGMA journal_mode=WAL")  # persistent: set once per database file
            db.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction, committed at the end of the block (rolled back
        on an error), then closed."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            # With WAL, NORMAL survives a crash of any process; only a power cut could lose
            # the last commits. It saves a disk sync per activity.
            db.execute("PRAGMA synchronous=NORMAL")
            # IMMEDIATE takes the write lock up front, so two workers retrying the same
            # operation cannot both see "not done yet".
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise


class Ledger:
    """The shop's books in one SQLite file. Cheap to create: each call opens its own connection."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._file = LedgerFile(path, _SCHEMA)
        self.path = self._file.path
        self._transaction = self._file.transaction

    # -- the operations the mock services perform ------------------------------------------

    def reserve(self, run: OrderRun, items: list[OrderItem]) -> str:
        """Take the items out of stock; returns the reservation id (RES-XXXXXXXX)."""
        with self._transaction() as db:
            done = _done(db, run, "reserve")
            if done:
                return done
            for item in items:
                db.execute(
                    "INSERT OR IGNORE INTO stock VALUES (?, ?)", (item.product_id, DEFAULT_STOCK)
                )
                (on_hand,) = db.execute(
                    "SELECT on_hand FROM stock WHERE product_id = ?", (item.product_id,)
                ).fetchone()
                if on_hand < item.quantity:
                    raise OutOfStock(
                        f"{item.product_id}: {item.quantity} wanted, {on_hand} in stock"
                    )
            reference = new_reference("RES", 8)
            for item in items:
                db.execute(
                    "UPDATE stock SET on_hand = on_hand - ? WHERE product_id = ?",
                    (item.quantity, item.product_id),
                )
                _record(
                    db,
                    run,
                    "reserve",
                    reference,
                    product_id=item.product_id,
                    quantity=item.quantity,
                )
            _mark_done(db, run, "reserve", reference)
            return reference

    def release(self, run: OrderRun) -> str | None:
        """Put back what the order's reservation took. Returns the reservation id, or None
        when there was nothing to release."""
        with self._transaction() as db:
            reservation = _done(db, run, "reserve")
            if not reservation or _done(db, run, "release"):
                return reservation
            lines = db.execute(
                "SELECT product_id, quantity FROM entries"
                " WHERE order_id = ? AND run_id = ? AND kind = 'reserve'",
                (run.order_id, run.run_id),
            ).fetchall()
            for product_id, quantity in lines:
                db.execute(
                    "UPDATE stock SET on_hand = on_hand + ? WHERE product_id = ?",
                    (quantity, product_id),
                )
                _record(db, run, "release", reservation, product_id=product_id, quantity=quantity)
            _mark_done(db, run, "release", reservation)
            return reservation

    def charge(self, run: OrderRun, amount: float) -> str:
        """Charge the customer; returns the transaction id (TXN-XXXXXXXX)."""
        with self._transaction() as db:
            done = _done(db, run, "charge")
            if done:
                return done
            reference = new_reference("TXN", 8)
            _record(db, run, "charge", reference, amount=amount)
            _mark_done(db, run, "charge", reference)
            return reference

    def refund(self, run: OrderRun) -> str | None:
        """Refund the order's charge. Returns the transaction id, or None when nothing was
        charged."""
        with self._transaction() as db:
            transaction = _done(db, run, "charge")
            if not transaction or _done(db, run, "refund"):
                return transaction
            (amount,) = db.execute(
                "SELECT amount FROM entries WHERE order_id = ? AND run_id = ? AND kind = 'charge'",
                (run.order_id, run.run_id),
            ).fetchone()
            _record(db, run, "refund", transaction, amount=-amount)
            _mark_done(db, run, "refund", transaction)
            return transaction

    def ship(self, run: OrderRun) -> str:
        """Hand the order to the carrier; returns the tracking number (TRACK-XXXXXXXXXXXX)."""
        with self._transaction() as db:
            done = _done(db, run, "ship")
            if done:
                return done
            reference = new_reference("TRACK", 12)
            _record(db, run, "ship", reference)
            _mark_done(db, run, "ship", reference)
            return reference

    # -- reading the books -------------------------------------------------------------------

    def entries(self, order_id: str | None = None) -> list[dict]:
        """Every ledger entry (of one order, if given), oldest first, as plain dicts."""
        query = "SELECT * FROM entries"
        params: tuple = ()
        if order_id is not None:
            query += " WHERE order_id = ?"
            params = (order_id,)
        with self._transaction() as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(query + " ORDER BY entry_id", params)]

    def stock(self) -> dict[str, int]:
        with self._transaction() as db:
            return dict(db.execute("SELECT product_id, on_hand FROM stock ORDER BY product_id"))

    def entries_frame(self, order_id: str | None = None) -> pd.DataFrame:
        import pandas as pd

        columns = [
            "entry_id",
            "order_id",
            "run_id",
            "kind",
            "reference",
            "product_id",
            "quantity",
            "amount",
            "recorded_at",
        ]
        frame = pd.DataFrame(self.entries(order_id), columns=columns)
        frame["recorded_at"] = pd.to_datetime(frame["recorded_at"])
        return frame

    def stock_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(list(self.stock().items()), columns=["product_id", "on_hand"])

    def orders_frame(self) -> pd.DataFrame:
        """One row per order run: units reserved and released, money charged and refunded,
        and whether it shipped. A balanced compensated order nets to zero in both."""
        import pandas as pd

        entries = self.entries_frame()
        if entries.empty:
            return pd.DataFrame(
                columns=["order_id", "run_id", *ENTRY_KINDS, "units_held", "net_charged"]
            )
        counts = entries.pivot_table(
            index=["order_id", "run_id"],
            columns="kind",
            values="entry_id",
            aggfunc="count",
            fill_value=0,
        )
        counts = counts.reindex(columns=list(ENTRY_KINDS), fill_value=0)
        units = (
            entries.assign(
                held=entries["quantity"].fillna(0)
                * entries["kind"].map({"reserve": 1, "release": -1}).fillna(0)
            )
            .groupby(["order_id", "run_id"])["held"]
            .sum()
        )
        money = entries.groupby(["order_id", "run_id"])["amount"].sum()
        frame = counts.assign(units_held=units.astype(int), net_charged=money.round(2))
        frame.columns.name = None
        return frame.reset_index()


def _done(db: sqlite3.Connection, run: OrderRun, kind: str) -> str | None:
    row = db.execute(
        "SELECT reference FROM operations WHERE order_id = ? AND run_id = ? AND kind = ?",
        (run.order_id, run.run_id, kind),
    ).fetchone()
    return row[0] if row else None


def _mark_done(db: sqlite3.Connection, run: OrderRun, kind: str, reference: str) -> None:
    db.execute(
        "INSERT INTO operations VALUES (?, ?, ?, ?)", (run.order_id, run.run_id, kind, reference)
    )


def _record(
    db: sqlite3.Connection,
    run: OrderRun,
    kind: str,
    reference: str,
    *,
    product_id: str | None = None,
    quantity: int | None = None,
    amount: float | None = None,
) -> None:
    db.execute(
        "INSERT INTO entries (order_id, run_id, kind, reference, product_id, quantity, amount,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.order_id,
            run.run_id,
            kind,
            reference,
            product_id,
            quantity,
            amount,
            datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m order_management.ledger", description="Print the shop's books."
    )
    parser.add_argument("--json", action="store_true", help="every ledger entry as JSON")
    parser.add_argument("--order-id", help="only this order's entries")
    args = parser.parse_args(argv)
    ledger = Ledger()
    if args.json:
        json.dump(ledger.entries(args.order_id), sys.stdout, indent=2)
        print()
        return 0
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(f"Ledger: {ledger.path}\n")
        print("Stock on hand")
        print(ledger.stock_frame().to_string(index=False), "\n")
        print("Entries")
        print(ledger.entries_frame(args.order_id).drop(columns="run_id").to_string(index=False))
        print("\nPer order")
        print(ledger.orders_frame().drop(columns="run_id").to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
