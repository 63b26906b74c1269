from django.urls import path

from . import views

app_name = "aftersales"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/<int:order_id>/", views.new_case, name="new"),
    # Vendor and merchant emails carry this path: keep it stable.
    path("<int:case_id>/", views.case_page, name="case"),
    path("<int:case_id>/<str:step>/", views.case_step, name="step"),
]
