"""What a workflow came to, in one line: the deep dives' self-checks compare these lines.

A check cell starts the learner's workflow itself (`client.start_workflow`); `outcome` only
waits, bounded, and words the end: the result, the failure as the kernel's one line would
say it, or that no result came in time. A wrong answer then fails its check with a hint,
never with a traceback or a hang.
"""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowFailureError, WorkflowHandle

from order_management.notebook.cell_errors import one_line


async def outcome(handle: WorkflowHandle, timeout: float) -> str:
    """`handle`'s result as `repr`, `"failed: <why>"`, or `"no result after <timeout> s"`."""
    try:
        return repr(await asyncio.wait_for(handle.result(), timeout=timeout))
    except WorkflowFailureError as failure:
        return f"failed: {one_line(failure)}"
    except asyncio.TimeoutError:
        return f"no result after {timeout:g} s"
