from django import forms

from .models import Store


class StoreForm(forms.Form):
    """Connect a store: the fields a channel does not use are ignored."""

    channel = forms.ChoiceField(
        choices=[
            (Store.Channel.SHOPIFY, "Shopify"),
            (Store.Channel.WOOCOMMERCE, "WooCommerce"),
            (Store.Channel.CSV, "CSV import"),
        ]
    )
    name = forms.CharField(max_length=200, label="Store name")
    url = forms.CharField(
        max_length=200,
        required=False,
        label="Shop domain or site address",
        help_text="Shopify: lakbay.myshopify.com. WooCommerce: https://shop.example.com.",
    )
    access_token = forms.CharField(
        max_length=500, required=False, label="Admin API access token (Shopify)", widget=forms.PasswordInput
    )
    consumer_key = forms.CharField(max_length=500, required=False, label="Consumer key (WooCommerce)")
    consumer_secret = forms.CharField(
        max_length=500, required=False, label="Consumer secret (WooCommerce)", widget=forms.PasswordInput
    )
    webhook_secret = forms.CharField(
        max_length=500,
        required=False,
        label="Webhook signing secret",
        help_text="Shopify: the app's client secret. WooCommerce: the secret you give the webhook.",
        widget=forms.PasswordInput,
    )
    api_base_url = forms.CharField(
        max_length=200,
        required=False,
        label="API address (leave empty)",
        help_text="Only to point the connection at another host than the store's own.",
    )


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="Orders file (CSV)",
        help_text="Orderdesk's template, or Shopify's Orders → Export (CSV for Excel or plain CSV).",
    )
