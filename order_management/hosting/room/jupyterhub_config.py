"""The room's JupyterHub configuration (`jupyterhub -f` this file; `make room` does).

Everything variable comes from the environment that `start` (see hub) gives the hub: ROOM_*
(see settings) and the two passwords, which are taken out of the environment here so that no
process the hub starts (proxy, culler, attendees' servers) inherits them.
"""

# ruff: noqa: F821  (`c` is the configuration object JupyterHub provides to this file)

import os
import sys
from pathlib import Path

from order_management.hosting.room.dashboard import SERVICE_NAME
from order_management.hosting.room.environment import proxy_command
from order_management.hosting.room.settings import NAME_PATTERN, room_settings
from order_management.hosting.room.spawner import AttendeeSpawner, shared_server_settings

room = room_settings()

c.JupyterHub.ip = room.ip
c.JupyterHub.port = room.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = room.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{room.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [proxy_command(room)]
c.ConfigurableHTTPProxy.pid_file = str(room.state_dir / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{room.state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(room.state_dir / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(room.state_dir / "hub.pid")

# A name and the workshop password; the instructor's name needs the instructor's password.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ.pop("ROOM_PASSWORD")
c.SharedPasswordAuthenticator.admin_password = os.environ.pop("ROOM_INSTRUCTOR_PASSWORD")
c.Authenticator.admin_users = {room.instructor}
c.Authenticator.allow_all = True
c.Authenticator.username_pattern = NAME_PATTERN

c.JupyterHub.spawner_class = AttendeeSpawner
c.Spawner.cmd = [str(room.environment / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# A first login creates the user and copies the notebooks before JupyterLab starts.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
# Each poll also closes the ports an attendee's processes newly listen on (see firewall).
c.Spawner.poll_interval = 10

# Servers idle for ROOM_IDLE_MINUTES are stopped (their processes swept); homes stay.
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={room.idle_minutes * 60}",
            f"--cull-every={min(300, room.idle_minutes * 30)}",
        ],
    },
    # The instructor's view (dashboard): behind the hub's login, which lets admins alone in
    # (JupyterHub gives `access:services` to admins only); linked from the admin page.
    {
        "name": SERVICE_NAME,
        "url": f"http://127.0.0.1:{room.dashboard_port}",
        "command": [sys.executable, "-m", "order_management.hosting.room.dashboard"],
        "oauth_no_confirm": True,
        # A managed service inherits little of the hub's environment: the room's settings and
        # its shared Temporal server, if any, are passed on.
        "environment": {
            **{key: value for key, value in os.environ.items() if key.startswith("ROOM_")},
            **shared_server_settings(),
        },
    },
]
c.JupyterHub.template_paths = [str(Path(__file__).with_name("templates"))]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
    {
        "name": SERVICE_NAME,
        "scopes": ["list:users", "read:users", "read:servers"],
        "services": [SERVICE_NAME],
    },
]
