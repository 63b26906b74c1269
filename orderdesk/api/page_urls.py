from django.urls import path

from . import pages

app_name = "api_keys"

urlpatterns = [
    path("new/", pages.create_api_key, name="create"),
    path("<int:api_key_id>/revoke/", pages.revoke_api_key, name="revoke"),
]
