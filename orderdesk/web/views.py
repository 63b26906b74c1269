from django.conf import settings
from django.shortcuts import redirect, render
from django.views.static import serve

from orderdesk.orders.queries import TRACKING_TABS, late_order_count, tab_counts


def home(request):
    """Signed out: a way in. Signed in: the shop at a glance, one tap from Order Tracking."""
    if request.merchant is None:
        return render(request, "web/home.html", {"signed_in_without_shop": request.user.is_authenticated})
    if request.actor.party.vendor_id is not None:
        # A vendor's people see no orders, counts or money of the shop: their home is their work list.
        return redirect("shipments:list")
    counts = tab_counts(request.merchant)
    return render(
        request,
        "web/home.html",
        {
            "tabs": [(status, status.label, counts[status]) for status in TRACKING_TABS],
            "late_count": late_order_count(request.merchant),
        },
    )


def media_file(request, path: str):
    """A stored photo by its generated name; folders are never listed."""
    return serve(request, path, document_root=settings.MEDIA_ROOT, show_indexes=False)
