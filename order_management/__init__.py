"""order_management: the Temporal order-management workshop, as an importable package.

The seed's files, at the top where its commands expect them:
- shared: the order, its result and status values, validation (used by every side)
- workflow: OrderWorkflow, the deterministic orchestration (approval, steps, saga)
- activities: the side effects, calls to mock services
- worker, starter, test_approval: run a worker, place an order, walk through an approval

Beside them:
- ledger: the mock services' books in SQLite, idempotent: each order charged exactly once
- orders: the client side for scripts (place an order, send it messages)
- history: what Temporal recorded about a workflow, as tables and charts
- errors: `WorkshopError`, the base of every error the workshop raises on purpose
- sdk_errors: the SDK's errors as a learner's sentence, for scripts and cells alike
- sdk_internals: the SDK's and IPython's private details the workshop reads, in one place
- deadline: the monotonic deadline every bounded wait polls against

Subpackages, one concern each (arrows point down: notebook uses the rest, never the reverse):
- notebook/: what a workshop cell needs besides the SDK (display, one-line errors, the code
  on screen, exercises, outages on purpose for notebook 05)
- hosting/: the workshop inside a Jupyter server, and a room on JupyterHub
- beyond/: the "beyond the basics" workflows and activities (notebooks 05 and 06)
- local/: where Temporal is, the local dev server, the connection, worker logs
"""

__version__ = "0.1.0"
