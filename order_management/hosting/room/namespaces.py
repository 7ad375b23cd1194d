"""An attendee's own namespace on the room's shared Temporal server, created if missing.

In a room pointed at a cluster or Temporal Cloud (TEMPORAL_ADDRESS set for `make room`), no
attendee runs a dev server; each one's orders go to a namespace named after them, so that
their Web UI and `list_workflows` show their orders only. The hub creates it before the
attendee's Jupyter server starts, with the room's own connection settings.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from order_management.errors import WorkshopError
from order_management.local import config

# Long enough to look back at a session's orders the next day; servers refuse less than a day.
RETENTION = timedelta(days=3)
# A new namespace reaches the frontend's cache some seconds after it is registered; until then
# calls in it fail with "namespace not found".
READY_SECONDS = 30.0


class NamespaceError(WorkshopError, RuntimeError):
    """The attendee's namespace does not exist and cannot be created; the message says why."""


async def ensure_namespace(namespace: str) -> None:
    """Create `namespace` on the room's server unless it exists, and wait until it takes calls."""
    settings = config.temporal_settings()
    client = await Client.connect(settings.address, namespace=namespace, **settings.connect_options)
    if await _exists(client, namespace):
        return
    request = RegisterNamespaceRequest(
        namespace=namespace,
        description="A workshop attendee's orders",
        workflow_execution_retention_period=Duration(seconds=int(RETENTION.total_seconds())),
    )
    try:
        await client.workflow_service.register_namespace(request)
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:  # another login of the same attendee
            raise NamespaceError(
                f"Namespace {namespace} does not exist on {settings.address}, and the server "
                f"refused to create it ({err.message}). Create it there first (Temporal Cloud: "
                "in the Cloud UI or with `tcld namespace create`)."
            ) from None
    await _until_usable(client, namespace)


async def _exists(client: Client, namespace: str) -> bool:
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise NamespaceError(f"Cannot look up namespace {namespace}: {err.message}") from None
    return True


async def _until_usable(client: Client, namespace: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            await client.count_workflows()
            return
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise NamespaceError(
                    f"Namespace {namespace} was created but does not take calls yet: {err.message}"
                ) from None
        await asyncio.sleep(0.5)
