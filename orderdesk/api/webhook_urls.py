from django.urls import path

from . import webhook_pages

app_name = "webhooks"

urlpatterns = [
    path("new/", webhook_pages.create_endpoint, name="create"),
    path("<int:endpoint_id>/", webhook_pages.endpoint_detail, name="detail"),
    path("<int:endpoint_id>/edit/", webhook_pages.update_endpoint, name="update"),
    path("<int:endpoint_id>/switch/", webhook_pages.switch_endpoint, name="switch"),
    path("<int:endpoint_id>/delete/", webhook_pages.delete_endpoint, name="delete"),
    path("<int:endpoint_id>/retry-failed/", webhook_pages.retry_failed, name="retry_failed"),
    path(
        "<int:endpoint_id>/deliveries/<int:notification_id>/redeliver/",
        webhook_pages.redeliver,
        name="redeliver",
    ),
]
