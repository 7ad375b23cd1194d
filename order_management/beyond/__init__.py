"""Beyond the basics: more workflows and activities around the order (notebooks 05 and 06).

- notifications: telling the customer, an activity that must not send twice
- sub_orders: child workflows, one `OrderWorkflow` per product
- search_attributes: typed fields the server indexes, for visibility queries
- batch: a ledger report that a Temporal Schedule starts every so often
- warehouse: picking an order's units, a long activity that heartbeats

Workflow and activity code only: what starts these workflows lives in the notebooks and tests.
"""
