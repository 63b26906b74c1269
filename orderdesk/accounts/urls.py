from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("notifications/", views.update_notifications, name="update_notifications"),
    path("notification-preferences/", views.update_preferences, name="update_notification_preferences"),
    path("invite/", views.invite, name="invite"),
    path("acting-for/", views.act_for, name="act_for"),
    path("invitation/<uidb64>/<token>/", views.accept_invitation, name="accept_invitation"),
]
