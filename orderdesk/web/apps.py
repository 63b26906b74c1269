from django.apps import AppConfig
from django.db.backends.signals import connection_created


class WebConfig(AppConfig):
    name = "orderdesk.web"
    label = "web"

    def ready(self):
        from orderdesk.sqlite_checkpoints import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="sqlite-checkpoints")
