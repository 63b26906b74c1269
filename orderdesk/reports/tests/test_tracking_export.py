"""Order Tracking's own export menu: exactly the tab and search on the page, for the owner and staff."""

import csv
import html
import io
import re

import pytest
from django.urls import reverse

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.orders.tests.factories import dispatched_order, new_order, pending_order

pytestmark = pytest.mark.django_db


def export_links(page) -> dict[str, str]:
    """The menu's links by their kind and format, e.g. "Orders CSV"."""
    menu = page.content.decode().split('class="tracking-export"', 1)[1].split("</details>", 1)[0]
    links = {}
    for label, csv_url, xlsx_url in re.findall(
        r'<li><span>([^<]+)</span> <a href="([^"]+)"[^>]*>CSV</a> <a href="([^"]+)"[^>]*>XLSX</a></li>', menu
    ):
        links[f"{label} CSV"], links[f"{label} XLSX"] = html.unescape(csv_url), html.unescape(xlsx_url)
    return links


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.STAFF])
def test_the_menu_exports_exactly_the_tab_and_search_shown(client, owner, role):
    pending_order(
        owner, customer=new_order().customer.__class__(name="Rosa Dizon", phone="", email="", address="")
    )
    pending_order(owner)
    dispatched_order(
        owner, customer=new_order().customer.__class__(name="Rosa Dizon", phone="", email="", address="")
    )
    client.force_login(MembershipFactory(merchant=owner.merchant, role=role).user)

    page = client.get(reverse("orders:tracking"), {"status": "pending", "q": "Rosa"})
    links = export_links(page)

    assert set(links) == {
        f"{kind} {file_format}"
        for kind in ("Orders", "Order lines", "Shipments", "Costs", "After-sales cases")
        for file_format in ("CSV", "XLSX")
    }
    answer = client.get(links["Orders CSV"])
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8")[1:])))
    assert [(row["Customer"], row["Status"]) for row in rows] == [("Rosa Dizon", "pending")]
    lines = client.get(links["Order lines CSV"])
    assert {
        row["Order status"]
        for row in csv.DictReader(io.StringIO(b"".join(lines.streaming_content).decode()[1:]))
    } == {"pending"}


def test_the_menu_follows_a_tab_changed_in_place(owner_client, owner):
    """The menu is inside the part htmx swaps, so a tab chosen without a page load is the one exported."""
    dispatched_order(owner)

    swapped = owner_client.get(reverse("orders:tracking"), {"status": "dispatched"}, HTTP_HX_REQUEST="true")

    assert "status=dispatched" in export_links(swapped)["Orders XLSX"]


def test_a_large_tracking_export_goes_to_the_background(owner_client, owner, settings):
    settings.REPORTS_EXPORT_STREAM_MAX_ROWS = 1
    for _ in range(2):
        pending_order(owner)
    links = export_links(owner_client.get(reverse("orders:tracking"), {"status": "pending"}))

    offered = owner_client.get(links["Orders CSV"])

    assert offered.status_code == 200 and "Make it in the background" in offered.content.decode()


def test_a_vendor_user_gets_neither_the_menu_nor_its_exports(owner_client, owner, client):
    pending_order(owner)
    links = export_links(owner_client.get(reverse("orders:tracking"), {"status": "pending"}))
    vendor_user = MembershipFactory(merchant=owner.merchant, role=Membership.Role.VENDOR_USER)
    client.force_login(vendor_user.user)

    assert client.get(reverse("orders:tracking")).status_code == 403
    assert {client.get(url).status_code for url in links.values()} == {403}
