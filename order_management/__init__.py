"""order_management: the Temporal order-management workshop, as an importable package.

Modules, one concept each:
- shared: the order, its result and status values, validation (used by every side)
- workflow: OrderWorkflow, the deterministic orchestration (approval, steps, saga)
- activities: the side effects, calls to mock services
- ledger: the mock services' books in SQLite, the proof of exactly-once
- config, connection, devserver: where Temporal is, and the local dev server
- worker, starter, orders: running workers, placing orders, sending them messages
- notifications, sub_orders, search_attributes, batch: beyond the basics (a notification
  activity, child workflows, typed search attributes, a scheduled ledger report)
- worker_process, outages: a worker in its own process, and outages on purpose (notebook 05)
- notebook/: what a workshop cell needs besides the SDK (the kernel's worker, one-line errors,
  the code on screen, links, parameters, exercises, widgets, the CLI from a cell, preflight)
"""

__version__ = "0.1.0"
