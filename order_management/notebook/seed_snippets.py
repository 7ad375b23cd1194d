"""The original demo's snippets, verbatim in a cell.

- nest_asyncio lets `asyncio.run(main())` run while the kernel's loop runs.
- The package folder goes on sys.path, so `from workflow import OrderWorkflow` finds the
  same files the seed's snippets meant.

The workshop's own cells need no such help: they `await` directly.
"""

from __future__ import annotations

import sys
from pathlib import Path

from order_management.local import config
from order_management.shared import TASK_QUEUE


def enable_seed_snippets() -> str:
    """Let the seed README's snippets run verbatim in a cell; returns the server address.

    The kernel's worker task keeps running inside the nested loop, so the snippet's
    `await handle.result()` completes."""
    import nest_asyncio

    nest_asyncio.apply()
    package_dir = str(Path(__file__).resolve().parent.parent)
    if package_dir not in sys.path:
        sys.path.append(package_dir)  # appended: never shadows an installed module
    address = config.temporal_settings().address
    print(
        f"asyncio.run() now works in this kernel; `from workflow import ...` finds "
        f"{package_dir}.\nThe snippets connect to ADDRESS = {address!r}."
    )
    if config.task_queue() != TASK_QUEUE:
        print(
            f"Note: the snippets use the task queue {TASK_QUEUE!r}, but this kernel's worker "
            f"polls {config.task_queue()!r} (ORDER_TASK_QUEUE): their orders will wait."
        )
    return address
