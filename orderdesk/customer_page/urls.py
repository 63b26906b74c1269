from django.urls import path

from . import views

app_name = "customer_page"

urlpatterns = [
    path("<str:token>/", views.customer_page, name="order"),
]
