from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    """The pages and feeds of shipments, above orders and fulfillment: the shipping-status list
    (Order Tracking's shipping view, and a vendor's work list), a shipment's page and its
    actions, and the carrier-tracking webhook (AfterShip)."""

    name = "orderdesk.shipments"
    label = "shipments"
