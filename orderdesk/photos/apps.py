from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "orderdesk.photos"
    label = "photos"
