"""A room: the workshop for many attendees on one Linux machine, with JupyterHub.

`make room` (as root) builds one shared, read-only environment, installs
configurable-http-proxy, and starts a hub where attendees log in with a name and the workshop
password. Each attendee is a system user `jupyter-<name>`, created on first login with a
private home holding a fresh copy of the notebooks; their Jupyter server starts their own
Temporal dev server (or, for a room pointed at a shared Temporal, uses a namespace of their
own). `make room-stop` ends the hub and everything it started.

Modules, one concept each:
- settings: what an instructor can set (ports, folders, the instructor's name), from ROOM_*
- environment: the shared read-only environment and configurable-http-proxy
- attendees: system users, their homes and their Temporal port blocks
- processes: finding and ending what a room left running
- firewall: an attendee's dev server ports closed to the others (iptables)
- namespaces: an attendee's own namespace on a shared Temporal server
- spawner: JupyterHub's spawner for an attendee (user creation, environment, sweep)
- jupyterhub_config: the hub's configuration file
- hub: starting and stopping the hub (`python -m order_management.hosting.room start|stop|status`)
"""
