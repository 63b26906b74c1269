from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "orderdesk.stores"
    label = "stores"

    def ready(self):
        from .messages import register_store_messages

        register_store_messages()
