"""The bench's shipment figures: a vendor's work list and the merchant's shipping-status tabs.

The fill makes the merchant's own shipments; before timing, every third one is handed to a
bench vendor (as if allocated to it), each shipment's last tracking time is set from its
dates, and the kept shipment counts are rebuilt, since the fill bypasses the actions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Mod
from django.test import Client
from django.urls import reverse

from orderdesk.accounts.models import Membership, User
from orderdesk.fulfillment.counts import recount_shipments
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.fulfillment.queries import SHIPPING_TABS
from orderdesk.vendors.models import Vendor

VENDOR_EMAIL = "bench-vendor@orderdesk.local"


def vendor_client(bench) -> Client:
    """The bench vendor's person, signed in; its shipments are every third of the merchant's."""
    with transaction.atomic():
        vendor, _ = Vendor.objects.get_or_create(merchant=bench.merchant, name="Bench vendor")
        user = User.objects.filter(email=VENDOR_EMAIL).first() or User.objects.create_user(VENDOR_EMAIL, None)
        Membership.objects.filter(user=user).exclude(merchant=bench.merchant).delete()
        Membership.objects.get_or_create(
            user=user,
            merchant=bench.merchant,
            defaults={"role": Membership.Role.VENDOR_USER, "vendor": vendor},
        )
        shipments = Fulfillment.objects.for_merchant(bench.merchant)
        shipments.filter(last_event_at=None).update(
            last_event_at=Coalesce(F("delivered_at"), F("shipped_at"), F("created_at"))
        )
        shipments.filter(vendor=None).annotate(third=Mod("id", 3)).filter(third=0).update(
            vendor=vendor, shipped_by=Fulfillment.Shipper.VENDOR
        )
    recount_shipments(bench.merchant)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    return client


def _five_tabs(bench, client) -> list:
    url = reverse("shipments:list")
    statuses = [SHIPPING_TABS[i % len(SHIPPING_TABS)] for i in range(bench.requests)]
    return [(lambda status=status: client.get(url, {"status": status})) for status in statuses]


def vendor_work_list(bench) -> dict:
    from .figures import answered_200, timed

    client = vendor_client(bench)
    held = Fulfillment.objects.for_merchant(bench.merchant).exclude(vendor=None).count()
    return timed(_five_tabs(bench, client), check=answered_200) | {
        "what": f"a vendor's work list, first page of each of the five statuses in turn ({held:,} shipments)"
    }


def shipping_status_tabs(bench) -> dict:
    from .figures import answered_200, timed

    vendor_client(bench)  # the same shipments as the work list's
    held = Fulfillment.objects.for_merchant(bench.merchant).count()
    return timed(_five_tabs(bench, bench.client()), check=answered_200) | {
        "what": f"Order Tracking's shipping-status view, the five tabs in turn ({held:,} shipments)"
    }
