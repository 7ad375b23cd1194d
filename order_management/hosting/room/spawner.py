"""JupyterHub's spawner for an attendee: their system user, their Temporal, their cleanup.

A LocalProcessSpawner that runs the hub user `alice` as the system user `jupyter-alice`
(created on her first login, as The Littlest JupyterHub does) from the room's shared
environment. It tells her Jupyter server where her Temporal is:

- a room of dev servers (the default): `TEMPORAL_ADDRESS=localhost:<her port>` and
  `ORDER_STATE_DIR=~/.temporal`; the workshop's Jupyter server extension starts her dev
  server there, its SQLite file in her home, and serves its Web UI at /user/alice/temporal/;
- a room pointed at a shared server (TEMPORAL_ADDRESS set for `make room`): the room's
  connection settings and `TEMPORAL_NAMESPACE=workshop-alice`, created here if missing.

Every port she listens on is closed to the other attendees where iptables is installed (see
firewall): her dev server's fixed ports before it starts, and the ports her processes pick at
random (the dev server's internal services, kernels) once they listen, then at every poll.

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
from order_management.local.devserver import HTTP_PORT_VARIABLE, METRICS_PORT_VARIABLE

# How long after her server's start her dev server's internal ports are looked for: it starts
# them with the Jupyter server, before that takes a request.
LISTENERS_SECONDS = 60.0


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
        address = await super().start()
        if firewall.available():
            self._closing = asyncio.ensure_future(self._close_listening_once_up(room))
        return address

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

    async def _close_listening_once_up(self, room: RoomSettings) -> None:
        """Close her dev server's internal ports as soon as its gRPC port listens (and a
        moment more: it opens the internal ones around the same time)."""
        deadline = asyncio.get_running_loop().time() + LISTENERS_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            held = await asyncio.to_thread(firewall.listening_ports, self.attendee.uid)
            if self.attendee.temporal_port in held:
                await asyncio.sleep(1)
                break
            await asyncio.sleep(0.5)
        await self._close_listening(room)

    async def _close_listening(self, room: RoomSettings) -> None:
        try:
            await asyncio.to_thread(firewall.close_listening, room, self.attendee)
        except firewall.FirewallError as err:
            self.log.warning("Ports of %s left open: %s", self.user.name, err)

    async def poll(self) -> int | None:
        status = await super().poll()
        attendee = getattr(self, "attendee", None)
        if status is None and attendee and firewall.available():
            await self._close_listening(room_settings())
        return status

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
            env[HTTP_PORT_VARIABLE] = str(self.attendee.http_port)
            env[METRICS_PORT_VARIABLE] = str(self.attendee.metrics_port)
        return env

    async def run_post_stop_hook(self) -> None:
        uid = pwd.getpwnam(system_user(self.user.name)).pw_uid
        leftovers = processes.of_users({uid})
        if leftovers:
            self.log.info("Ending %d processes %s left running", len(leftovers), self.user.name)
            await asyncio.to_thread(processes.end, leftovers)
        attendee = getattr(self, "attendee", None)
        if attendee and not shared_server_settings() and firewall.available():
            await asyncio.to_thread(firewall.reopen, room_settings(), attendee)
