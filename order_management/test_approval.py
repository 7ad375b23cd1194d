"""The seed's approval walk-through: order ORDER-1500 ($1500) waits, gets approved by a
signal, and completes. Run it with a worker running: `python test_approval.py`.

(A script, not a pytest module: the project's tests live in tests/.)
"""

from __future__ import annotations

import asyncio
import sys

from order_management.local.connection import connect, exit_process
from order_management.orders import await_result, place_order, send_approval
from order_management.sdk_errors import EXPLAINED, explain
from order_management.shared import make_order
from order_management.workflow import OrderWorkflow

ORDER_ID = "ORDER-1500"


async def run() -> None:
    client = await connect(start_server=False)
    handle = await place_order(client, make_order(1500.0, ORDER_ID))
    requires_approval = await handle.query(OrderWorkflow.requires_approval)
    print(f"Workflow requires approval: {requires_approval}")
    print("Sending approval signal...")
    await send_approval(handle, True)
    print("Approval signal sent!")
    result = await await_result(handle)
    print(f"Result: {result.message}")


def main() -> int:
    try:
        asyncio.run(run())
    except EXPLAINED as err:  # a sentence to act on, not a traceback
        print(explain(err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_process(main())
