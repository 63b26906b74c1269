from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "orderdesk.fulfillment"
    label = "fulfillment"

    def ready(self):
        from .actions import register_shipment_webhook_events

        register_shipment_webhook_events()
