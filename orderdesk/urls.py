from django.contrib import admin
from django.urls import include, path, re_path

from orderdesk.accounts.views import sign_up
from orderdesk.web.views import media_file

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("orderdesk.web.urls")),
    # Before allauth's own sign-up at the same address: ours also opens the shop.
    path("accounts/signup/", sign_up, name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("orderdesk.accounts.urls")),
    path("account/api-keys/", include("orderdesk.api.page_urls")),
    path("account/webhooks/", include("orderdesk.api.webhook_urls")),
    path("orders/", include("orderdesk.orders.urls")),
    path("aftersales/", include("orderdesk.aftersales.urls")),
    path("notifications/", include("orderdesk.notifications.urls")),
    path("t/", include("orderdesk.customer_page.urls")),
    path("stores/", include("orderdesk.stores.urls")),
    path("api/v1/", include("orderdesk.aftersales.api_urls")),
    path("shipments/", include("orderdesk.shipments.urls")),
    path("vendors/", include("orderdesk.vendors.urls")),
    path("reports/", include("orderdesk.reports.urls")),
    path("api/", include("orderdesk.api.urls")),
]

# Photos live under unguessable names on local disk in the embedded run; Django serves them.
urlpatterns += [
    re_path(r"^media/(?P<path>.*)$", media_file, name="media"),
]
