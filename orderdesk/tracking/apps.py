from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "orderdesk.tracking"
    label = "tracking"
    verbose_name = "Customer tracking page"
