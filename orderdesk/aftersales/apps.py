from django.apps import AppConfig


class AfterSalesConfig(AppConfig):
    name = "orderdesk.aftersales"
    label = "aftersales"
    verbose_name = "After-sales"

    def ready(self):
        from .messages import register_after_sales_messages

        register_after_sales_messages()
