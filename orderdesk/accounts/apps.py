from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orderdesk.accounts"
    label = "accounts"
