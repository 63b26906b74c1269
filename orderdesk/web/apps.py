from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "orderdesk.web"
    label = "web"
