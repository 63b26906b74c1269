from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "orderdesk.vendors"
    label = "vendors"
    verbose_name = "Vendors and hosting"
