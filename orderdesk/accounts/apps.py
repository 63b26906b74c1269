from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orderdesk.accounts"
    label = "accounts"

    def ready(self):
        from .messages import register_account_messages

        register_account_messages()
