from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.tracking, name="tracking"),
    # Notification SMS and emails carry this path: keep it stable.
    path("<int:order_id>/", views.detail, name="detail"),
    path("<int:order_id>/verify-payment/", views.verify_payment, name="verify_payment"),
    path("<int:order_id>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:order_id>/fulfill/", views.fulfill, name="fulfill"),
    path("<int:order_id>/cancel/", views.cancel, name="cancel"),
]
