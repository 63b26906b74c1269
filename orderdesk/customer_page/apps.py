from django.apps import AppConfig


class CustomerPageConfig(AppConfig):
    name = "orderdesk.customer_page"
    label = "customer_page"
    verbose_name = "Customer page"
