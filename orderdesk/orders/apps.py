from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orderdesk.orders"
    label = "orders"

    def ready(self):
        from .allocation_messages import register_allocation_messages
        from .messages import register_order_messages
        from .shipment_messages import register_shipment_messages
        from .webhooks import register_order_webhook_events

        register_order_messages()
        register_shipment_messages()
        register_allocation_messages()
        register_order_webhook_events()
