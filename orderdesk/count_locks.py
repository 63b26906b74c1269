"""The one order in which a transaction locks the merchant's count rows.

THE RULE: the order counts (orders.counts, OrderStatusCount) before the shipment counts
(fulfillment.counts, ShipmentStatusCount), in every transaction that moves both. Every action
of a merchant moves some of these few rows; two transactions taking them in opposite orders wait
for each other in a circle on PostgreSQL (a deadlock: one is rolled back). A new paid order
auto-allocated to a vendor moves its order count, then the vendor's shipment counts; a vendor's
handover that dispatches an order moves both too (test_count_lock_order pins both paths).

How it is kept, inside an order action (publishing_once):
- a count move is held and written just before the commit (PublishBatch.hold), with the
  rank below: the order counts' writer runs before the shipment counts';
- a statement that moves shipment counts at once instead (allocation's one statement, a
  shipment's removal) calls `order_counts_first()` before it: the order counts the
  transaction holds are moved then, first;
- an order count moved at once (a new order's INSERT, its number) moves before anything held.
A new way of moving either kind of count keeps to the rule, or names here why it cannot meet
the other.
"""

from orderdesk.notifications.webhooks import current_publish_batch

ORDER_COUNTS = 1
SHIPMENT_COUNTS = 2


def order_counts_first() -> None:
    """Call just before moving shipment counts at once (not held): write the order counts this
    transaction holds now, so that they are locked before the shipment counts."""
    batch = current_publish_batch()
    if batch is not None:
        batch.write_held(up_to_rank=ORDER_COUNTS)
