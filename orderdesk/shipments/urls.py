from django.urls import path

from . import views, webhooks

app_name = "shipments"

urlpatterns = [
    path("", views.shipment_list, name="list"),
    path("<int:shipment_id>/", views.detail, name="detail"),
    path("<int:shipment_id>/accept/", views.accept, name="accept"),
    path("<int:shipment_id>/in-transit/", views.in_transit, name="in_transit"),
    path("<int:shipment_id>/exception/", views.exception, name="exception"),
    path("<int:shipment_id>/delivered/", views.delivered, name="delivered"),
    path("carrier-feed/", views.carrier_feed, name="carrier_feed"),
    # AfterShip posts here; the token in the path names the merchant's feed.
    path("feeds/<str:token>/aftership/", webhooks.aftership_webhook, name="aftership_webhook"),
]
