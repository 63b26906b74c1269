from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "orderdesk.reports"
    label = "reports"
    verbose_name = "Reports and exports"

    def ready(self):
        from . import messages

        messages.register()
