"""Typed search attributes: business fields of a workflow that the server indexes, so
"every order of customer X over $500 still being fulfilled" is one visibility query.

A workflow sets them with `workflow.upsert_search_attributes` (recorded in its history,
so replay sets them again), and clients filter on them with `list_workflows`:

    CustomerId = 'CUST-1' AND OrderTotal > 500 AND ShipsFrom IN ('north')

Custom attributes must be registered with the namespace before a workflow sets them (a
workflow setting an unknown one fails its workflow task and retries until it is
registered). `register_search_attributes` does that, idempotently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from order_management.errors import WorkshopError

if TYPE_CHECKING:
    import pandas as pd

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
ORDER_STAGE = SearchAttributeKey.for_keyword("OrderStage")
"""fulfilling, then completed, partially_completed or failed."""
SUB_ORDER_COUNT = SearchAttributeKey.for_int("SubOrderCount")
SHIPS_FROM = SearchAttributeKey.for_keyword_list("ShipsFrom")
"""The warehouses the order ships from."""

ORDER_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    CUSTOMER_ID,
    ORDER_TOTAL,
    ORDER_STAGE,
    SUB_ORDER_COUNT,
    SHIPS_FROM,
)


class SearchAttributeConflict(WorkshopError, RuntimeError):
    """A search attribute of that name is registered with another type."""


async def register_search_attributes(client: Client) -> list[str]:
    """Register the order attributes in the client's namespace; returns the names it added
    (none when they were all there already)."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    registered = {**listed.system_attributes, **listed.custom_attributes}
    missing: dict[str, Any] = {}
    for key in ORDER_ATTRIBUTES:
        wanted = IndexedValueType.ValueType(int(key.indexed_value_type))
        if key.name not in registered:
            missing[key.name] = wanted
        elif registered[key.name] != wanted:
            raise SearchAttributeConflict(
                f"Search attribute {key.name} is registered as "
                f"{IndexedValueType.Name(registered[key.name])}, not "
                f"{IndexedValueType.Name(wanted)}; use another namespace or server"
            )
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return list(missing)


async def search_attributes_frame(
    client: Client, query: str, *, at_least: int = 0, timeout: float = 10.0
) -> pd.DataFrame:
    """`history.workflows_frame` for `query`, with one column per order attribute."""
    from order_management.history import workflows_frame

    frame = await workflows_frame(client, query, at_least=at_least, timeout=timeout)
    values: dict[str, dict[str, Any]] = {}
    async for workflow in client.list_workflows(query):
        attributes = workflow.typed_search_attributes
        values[workflow.run_id] = {key.name: attributes.get(key) for key in ORDER_ATTRIBUTES}
    for key in ORDER_ATTRIBUTES:
        frame[key.name] = [values.get(run_id, {}).get(key.name) for run_id in frame["run_id"]]
    return frame
