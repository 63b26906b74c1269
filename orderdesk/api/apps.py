from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orderdesk.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from orderdesk.notifications.models import Notification
        from orderdesk.notifications.topics import register_sender
        from orderdesk.notifications.webhooks import register_webhook_publisher

        from .webhook_delivery import send_webhook
        from .webhooks import queue_webhook_deliveries, register_webhook_topics

        register_webhook_topics()
        register_webhook_publisher(queue_webhook_deliveries)
        register_sender(Notification.Channel.WEBHOOK, send_webhook)
