from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "orderdesk.catalog"
    label = "catalog"
