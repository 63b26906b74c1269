from django.urls import path

from . import views, webhooks

app_name = "stores"

urlpatterns = [
    path("add/", views.add_store, name="add"),
    path("csv-template.csv", views.csv_template, name="csv_template"),
    path("<int:store_id>/csv/preview/", views.csv_preview, name="csv_preview"),
    path("<int:store_id>/csv/import/", views.csv_confirm, name="csv_confirm"),
    path("<int:store_id>/", views.detail, name="detail"),
    path("<int:store_id>/test/", views.test_connection, name="test"),
    path("<int:store_id>/sync/", views.sync_now, name="sync"),
    path("<int:store_id>/pause/", views.pause, name="pause"),
    path("<int:store_id>/resume/", views.resume, name="resume"),
    path("<int:store_id>/remove/", views.remove, name="remove"),
    path("orders/<int:order_id>/dismiss-change/", views.dismiss_store_change, name="dismiss_change"),
    path("<str:token>/webhooks/shopify/", webhooks.shopify_webhook, name="shopify_webhook"),
    path("<str:token>/webhooks/woocommerce/", webhooks.woocommerce_webhook, name="woocommerce_webhook"),
]
