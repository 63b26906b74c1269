from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("", views.vendor_list, name="list"),
    path("<int:vendor_id>/edit/", views.vendor_edit, name="edit"),
    path("<int:vendor_id>/active/", views.vendor_active, name="active"),
    path("hosting/", views.hosting, name="hosting"),
    path("hosting/host/", views.host, name="host"),
    path("hosting/import/", views.hosting_import, name="hosting_import"),
    path("hosting/import/confirm/", views.hosting_import_confirm, name="hosting_import_confirm"),
    path("hosting/template.csv", views.hosting_template, name="hosting_template"),
    path("processing-settings/", views.processing_settings, name="processing_settings"),
]
