from django.urls import path

from . import place_views, views

app_name = "orders"

urlpatterns = [
    path("", views.tracking, name="tracking"),
    # Notification SMS and emails carry this path: keep it stable.
    path("<int:order_id>/", views.detail, name="detail"),
    path("<int:order_id>/verify-payment/", views.verify_payment, name="verify_payment"),
    path("<int:order_id>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:order_id>/fulfill/", views.fulfill, name="fulfill"),
    path("<int:order_id>/cancel/", views.cancel, name="cancel"),
    # Manual processing (the Pending tab's Place) and moving units between vendors.
    path("place/", place_views.place, name="place"),
    path("place/host/", place_views.place_host, name="place_host"),
    path("place/done/", place_views.place_done, name="place_done"),
    path("shipments/<int:shipment_id>/move/", place_views.move_units, name="move_units"),
]
