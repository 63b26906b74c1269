from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "orderdesk.fulfillment"
    label = "fulfillment"
