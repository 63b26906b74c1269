from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("<int:notification_id>/resend/", views.resend, name="resend"),
]
