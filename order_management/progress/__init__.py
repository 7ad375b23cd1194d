"""A learner's progress, kept by Temporal itself: an entity workflow of the learner's own.

One long-running workflow per learner (per dev server, or per namespace on a shared server)
holds which notebooks they opened and finished, the exercises they passed and the last
one-line error they saw. The notebook layer signals it, a query reads it, and continue-as-new
keeps its history short. It outlives kernels and Jupyter restarts because Temporal keeps it,
as it keeps the orders; `make reset` clears it with them.

- workflow: the entity workflow (deterministic, no client code)
- record: the kernel's side: the worker that runs it, the signals, the query
- finished: a notebook finished when its last code cell succeeds (an IPython event, no cell)
- table: the progress as a table, one row per notebook (00_setup shows it)
"""
