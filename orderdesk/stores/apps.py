from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "orderdesk.stores"
    label = "stores"
