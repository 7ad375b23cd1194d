"""A room's closed doors: one attendee, from their own account, scans every port listening on
loopback and reaches none of another attendee's orders.

Two attendees log in (their Jupyter servers start their dev servers); Bob starts an order from
his own account. Ada then tries every listening loopback TCP port of the machine, as her
system user, both as a Temporal frontend (gRPC `ListWorkflowExecutions`) and as Temporal's
HTTP API or the Web UI's (`/api/v1/namespaces/default/workflows`): none lists Bob's order, and
none of the ports Bob listens on (his dev server's gRPC, Web UI, HTTP API, metrics and three
internal ports, his Jupyter server) accepts her connection. The same scan from Bob's account
finds his order, so the probe can see one where it is allowed to.
"""

from __future__ import annotations

import asyncio
import pwd
import secrets
import shutil
import subprocess
import time

import pytest

from order_management.hosting.room.firewall import listening_ports
from order_management.hosting.room.settings import system_user
from tests.helpers.browser import chromium
from tests.integration.test_room import (
    Room,
    connects_as,
    dev_server_port,
    log_in,
    new_attendee_page,
    room_program,
    running_room,
    start_order_as,
)
from tests.integration.test_room import pytestmark as room_marks

# The hub closes an attendee's ports as their dev server comes up, then at every poll (10 s).
CLOSED_SECONDS = 40
SCAN_SECONDS = 120

pytestmark = [
    *room_marks,
    pytest.mark.skipif(shutil.which("iptables") is None, reason="the room's firewall is iptables"),
]

# Run by an attendee's own Python (the room's environment): every port as a Temporal frontend
# and as an HTTP API; prints the ports whose answer holds the workflow id.
SCAN = """
import asyncio, os, sys, urllib.request
from datetime import timedelta
from temporalio.client import Client

workflow_id, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]

async def by_grpc(port):
    try:
        client = await asyncio.wait_for(Client.connect(f"127.0.0.1:{port}"), 5)
        ids = [w.id async for w in client.list_workflows(rpc_timeout=timedelta(seconds=5))]
    except Exception:
        return False
    return workflow_id in ids

def by_http(port):
    url = f"http://127.0.0.1:{port}/api/v1/namespaces/default/workflows"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return workflow_id in answer.read().decode(errors="replace")
    except Exception:
        return False

async def main():
    grpc = await asyncio.gather(*(by_grpc(port) for port in ports))
    http = await asyncio.gather(*(asyncio.to_thread(by_http, port) for port in ports))
    print(" ".join(str(p) for p, g, h in zip(ports, grpc, http) if g or h), flush=True)

asyncio.run(main())
os._exit(0)  # past the SDK's crash at interpreter teardown (sdk-python issue #300)
"""


def every_listening_port() -> list[int]:
    """Every TCP port any user listens on, on 127.0.0.1 or every address."""
    uids = {entry.pw_uid for entry in pwd.getpwall()}
    return sorted(set().union(*(listening_ports(uid) for uid in uids)))


def ports_reaching(room: Room, attendee: str, workflow_id: str, ports: list[int]) -> list[int]:
    """The ports at which `attendee`, from their own account, sees the workflow listed."""
    done = subprocess.run(
        ["runuser", "-u", system_user(attendee), "--", room_program(room, "python"), "-I"]
        + ["-c", SCAN, workflow_id, *map(str, ports)],
        capture_output=True,
        text=True,
        timeout=SCAN_SECONDS,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    return [int(port) for port in done.stdout.split()]


def closed_to(owner: str, other: str) -> list[int]:
    """The ports `owner` listens on that still accept `other`'s connection."""
    uid = pwd.getpwnam(system_user(owner)).pw_uid
    return [port for port in sorted(listening_ports(uid)) if connects_as(system_user(other), port)]


async def test_an_attendee_scanning_every_loopback_port_reaches_none_of_anothers_orders() -> None:
    suffix = secrets.token_hex(2)
    ada, bob = f"ada-{suffix}", f"bob-{suffix}"
    order = f"order-of-{bob}"
    with running_room() as room:
        async with chromium() as browser:
            pages = {name: await new_attendee_page(browser) for name in (ada, bob)}
            await asyncio.gather(*(log_in(pages[name], room, name) for name in pages))
        start_order_as(room, bob, order)

        bobs_ports = listening_ports(pwd.getpwnam(system_user(bob)).pw_uid)
        # gRPC, Web UI, HTTP API, metrics, 3 internal services, his Jupyter server.
        assert len(bobs_ports) >= 8, bobs_ports
        deadline = time.monotonic() + CLOSED_SECONDS
        while (still_open := closed_to(bob, ada)) and time.monotonic() < deadline:
            time.sleep(1)
        assert not still_open, f"ports of {bob} that {ada} can connect to: {still_open}"
        assert all(connects_as(system_user(bob), port) for port in bobs_ports)

        ports = every_listening_port()
        assert ports_reaching(room, ada, order, ports) == []
        assert dev_server_port(bob) in ports_reaching(room, bob, order, ports)
