from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="report"),
    path("exports/", views.exports, name="exports"),
    path("exports/file/", views.export, name="export"),
    path("exports/<int:export_id>/download/", views.export_download, name="export_download"),
]
