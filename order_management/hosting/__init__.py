"""Hosting: the workshop inside a Jupyter server, on a laptop (`make lab`) or for a room.

`jupyter` is the server extension that starts the Temporal dev server with the Jupyter server,
and the jupyter-server-proxy entry that puts its Web UI at `<base_url>temporal/`. `room` runs
the workshop for a whole room on one JupyterHub (`make room`), on top of it.
"""
