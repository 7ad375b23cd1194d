"""Record one workflow history per scenario into tests/histories/, for the replay tests.

Run it after an intended change to the workflow's commands (and say so in the commit):

    python -m tests.record_histories

It starts its own dev server on a free port and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from temporalio.client import Client

from order_management.local import devserver
from order_management.orders import await_result, place_order, send_approval
from order_management.shared import Order, make_order
from tests.helpers.servers import free_port, running_worker

HISTORIES = Path(__file__).resolve().parent / "histories"

# name -> (order, approval decision to signal or None)
SCENARIOS: dict[str, tuple[Order, bool | None]] = {
    "completed": (make_order(500, "REPLAY-COMPLETED"), None),
    "approved": (make_order(1500, "REPLAY-APPROVED"), True),
    "rejected": (make_order(1500, "REPLAY-REJECTED"), False),
    "approval_timed_out": (make_order(1500, "REPLAY-TIMEOUT", approval_timeout_seconds=1), None),
    "compensated_at_payment": (make_order(300, "REPLAY-PAYMENT", fail_at="payment"), None),
    "compensated_at_delivery": (make_order(300, "REPLAY-DELIVERY", fail_at="delivery"), None),
    "transient_retry": (
        make_order(300, "REPLAY-TRANSIENT", fail_at="payment", transient_failures=2),
        None,
    ),
}


async def record() -> None:
    with tempfile.TemporaryDirectory() as state:
        os.environ["ORDER_STATE_DIR"] = state
        os.environ["ORDER_LEDGER_DB"] = str(Path(state) / "ledger.db")
        port = free_port()
        devserver.start(port, die_with_parent=True)
        try:
            client = await Client.connect(f"localhost:{port}")
            async with running_worker(client, "replay-recording"):
                for name, (order, decision) in SCENARIOS.items():
                    handle = await place_order(client, order, "replay-recording")
                    if decision is not None:
                        await send_approval(handle, decision)
                    result = await await_result(handle)
                    history = await handle.fetch_history()
                    (HISTORIES / f"{name}.json").write_text(history.to_json())
                    print(f"{name}: {result.status}, {len(history.events)} events")
        finally:
            devserver.stop(port)


if __name__ == "__main__":
    asyncio.run(record())
