"""JupyterHub's spawner for an attendee: their system user, their Temporal, their cleanup.

A LocalProcessSpawner that runs the hub user `alice` as the system user `jupyter-alice`
(created on her first login, as The Littlest JupyterHub does) from the room's shared
environment. It tells her Jupyter server where her Temporal is:

- a room of dev servers (the default): `TEMPORAL_ADDRESS=localhost:<her port>` and
  `ORDER_STATE_DIR=~/.temporal`; the workshop's Jupyter server extension starts her dev
  server there, its SQLite file in her home, and serves its Web UI at /user/alice/temporal/;
- a room pointed at a shared server (TEMPORAL_ADDRESS set for `make room`): the room's
  connection settings and `TEMPORAL_NAMESPACE=workshop-alice`, created here if missing.

Her dev server's ports are closed to the other attendees where iptables is installed (see
firewall).

When her server stops, every process she still runs is ended: kernels, workers and dev
servers outlive a single-user server otherwise.
"""

from __future__ import annotations

import asyncio
import os
import pwd

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid

from order_management.hosting.room import firewall, processes
from order_management.hosting.room.attendees import ensure_attendee
from order_management.hosting.room.namespaces import ensure_namespace
from order_management.hosting.room.settings import RoomSettings, room_settings, system_user


def shared_server_settings() -> dict[str, str]:
    """The room's own TEMPORAL_* settings when it is pointed at a shared server, else {}."""
    if not os.environ.get("TEMPORAL_ADDRESS"):
        return {}
    return {
        key: value
        for key, value in os.environ.items()
        if key.startswith("TEMPORAL_") and key != "TEMPORAL_NAMESPACE"
    }


class AttendeeSpawner(LocalProcessSpawner):
    """An attendee's JupyterLab, as their own system user, with their own Temporal."""

    async def start(self) -> tuple[str, int]:
        room = room_settings()
        # useradd and the notebooks' copy take a moment: not on the hub's event loop.
        self.attendee = await asyncio.to_thread(ensure_attendee, room, self.user.name)
        if shared_server_settings():
            await ensure_namespace(room.namespace(self.user.name))
        else:
            await self._close_ports(room)
        self.notebook_dir = str(self.attendee.notebooks)
        return await super().start()

    async def _close_ports(self, room: RoomSettings) -> None:
        # A room without the rule still works: the README names the risk.
        if not firewall.available():
            reason = "no iptables here"
        else:
            try:
                await asyncio.to_thread(firewall.close_ports, room, self.attendee)
                return
            except firewall.FirewallError as err:
                reason = str(err)
        self.log.warning(
            "%s: every user of this machine can reach the Temporal dev server of %s",
            reason,
            self.user.name,
        )

    def make_preexec_fn(self, name: str):
        return set_user_setuid(system_user(name))

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        entry = pwd.getpwnam(system_user(self.user.name))
        env.update(USER=entry.pw_name, HOME=entry.pw_dir, SHELL=entry.pw_shell)
        return env

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        room = room_settings()
        # The room's environment first: its `temporal` CLI for the notebooks' terminal cells.
        env["PATH"] = f"{room.environment / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        env["ORDER_STATE_DIR"] = str(self.attendee.state_dir)
        shared = shared_server_settings()
        if shared:
            env.update(shared, TEMPORAL_NAMESPACE=room.namespace(self.user.name))
        else:
            env["TEMPORAL_ADDRESS"] = f"localhost:{self.attendee.temporal_port}"
        return env

    async def run_post_stop_hook(self) -> None:
        uid = pwd.getpwnam(system_user(self.user.name)).pw_uid
        leftovers = processes.of_users({uid})
        if leftovers:
            self.log.info("Ending %d processes %s left running", len(leftovers), self.user.name)
            await asyncio.to_thread(processes.end, leftovers)
