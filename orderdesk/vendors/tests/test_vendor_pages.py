"""The owner's Vendors and Hosting pages, the hosting CSV import, and another merchant's rows."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.vendors import actions, hosting_csv
from orderdesk.vendors.errors import InvalidVendor
from orderdesk.vendors.models import Hosting, Vendor

from .factories import HostingFactory, VendorFactory, variant

pytestmark = pytest.mark.django_db


def post_vendor(client, **fields):
    data = {
        "name": "Cebu Source",
        "contact_email": "",
        "contact_phone": "",
        "currency": "PHP",
        "processing_days": "3",
    }
    data.update(fields)
    return client.post(reverse("vendors:list"), data)


def test_the_owner_adds_a_vendor_with_its_phone_in_e164(owner_client, owner):
    answer = post_vendor(owner_client, contact_email="Ops@Cebu.example", contact_phone="0917 555 0101")

    assert answer.status_code == 302
    vendor = Vendor.objects.get(merchant=owner.merchant)
    assert (vendor.name, vendor.contact_email, vendor.contact_phone) == (
        "Cebu Source",
        "ops@cebu.example",
        "+639175550101",
    )
    assert "Cebu Source" in owner_client.get(reverse("vendors:list")).content.decode()


def test_a_refused_vendor_keeps_what_was_typed_and_says_why_beside_the_field(owner_client, owner):
    answer = post_vendor(owner_client, contact_phone="12", name="Davao Makers")

    page = answer.content.decode()
    assert answer.status_code == 422
    assert "“12” is not a valid phone number." in page or "is not a phone number" in page
    assert 'value="Davao Makers"' in page
    assert not Vendor.objects.exists()


def test_a_vendor_name_is_taken_once_per_merchant_whatever_its_case(owner):
    actions.add_vendor(actions.VendorDetails(name="Cebu Source"), by=owner)

    with pytest.raises(InvalidVendor) as refusal:
        actions.add_vendor(actions.VendorDetails(name="cebu  source"), by=owner)

    assert refusal.value.field == "name"
    assert Vendor.objects.count() == 1
    # Another shop may use the name.
    actions.add_vendor(actions.VendorDetails(name="Cebu Source"), by=owner_actor())


def test_the_owner_edits_and_deactivates_a_vendor(owner_client, owner):
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Source")

    owner_client.post(
        reverse("vendors:edit", args=[vendor.pk]),
        {
            "name": "Cebu Source Co.",
            "contact_email": "",
            "contact_phone": "",
            "currency": "usd",
            "processing_days": "5",
        },
    )
    owner_client.post(reverse("vendors:active", args=[vendor.pk]), {"active": "0"})

    vendor.refresh_from_db()
    assert (vendor.name, vendor.currency, vendor.processing_days, vendor.is_active) == (
        "Cebu Source Co.",
        "USD",
        5,
        False,
    )


def test_staff_cannot_open_the_vendors_page(client, owner):
    staff = MembershipFactory(merchant=owner.merchant, role="staff")
    client.force_login(staff.user)

    assert client.get(reverse("vendors:list")).status_code == 403
    assert client.post(reverse("vendors:host"), {}).status_code == 403


def test_another_merchants_vendor_is_a_404_and_never_listed(owner_client, owner):
    theirs = VendorFactory(name="Their Agent")
    their_variant = variant(theirs.merchant, "THEIRS-1")

    assert owner_client.get(reverse("vendors:edit", args=[theirs.pk])).status_code == 404
    assert owner_client.post(reverse("vendors:active", args=[theirs.pk]), {"active": "0"}).status_code == 404
    assert "Their Agent" not in owner_client.get(reverse("vendors:list")).content.decode()
    assert "THEIRS-1" not in owner_client.get(reverse("vendors:hosting")).content.decode()
    mine = VendorFactory(merchant=owner.merchant)
    owner_client.post(
        reverse("vendors:host"), {"variants": [their_variant.pk], "vendor": mine.pk, "unit_cost": "1.00"}
    )
    assert not Hosting.objects.filter(variant=their_variant).exists()
    theirs.refresh_from_db()
    assert theirs.is_active


def test_the_hosting_page_lists_products_filters_the_unhosted_and_hosts_many_at_once(owner_client, owner):
    cebu = VendorFactory(merchant=owner.merchant, name="Cebu Source")
    hosted = variant(owner.merchant, "LS-M", product="Linen shirt")
    HostingFactory(variant=hosted, vendor=cebu)
    tote = variant(owner.merchant, "CT-1", product="Canvas tote")
    mug = variant(owner.merchant, "MG-1", product="Clay mug")

    unhosted_page = owner_client.get(reverse("vendors:hosting"), {"show": "unhosted"}).content.decode()
    assert "CT-1" in unhosted_page and "MG-1" in unhosted_page and "LS-M" not in unhosted_page

    owner_client.post(
        reverse("vendors:host"),
        {"variants": [tote.pk, mug.pk], "vendor": cebu.pk, "unit_cost": "120.00", "shipping_cost": "25.50"},
    )

    assert {(h.variant.sku, h.unit_cost, h.shipping_cost) for h in Hosting.objects.filter(vendor=cebu)} == {
        ("LS-M", Decimal("120.00"), Decimal("35.00")),
        ("CT-1", Decimal("120.00"), Decimal("25.50")),
        ("MG-1", Decimal("120.00"), Decimal("25.50")),
    }
    assert (
        "Every product is hosted"
        in owner_client.get(reverse("vendors:hosting"), {"show": "unhosted"}).content.decode()
    )


def test_re_hosting_moves_a_product_to_another_vendor_and_an_inactive_vendor_is_refused(owner):
    cebu = VendorFactory(merchant=owner.merchant)
    davao = VendorFactory(merchant=owner.merchant)
    gone = VendorFactory(merchant=owner.merchant, is_active=False)
    shirt = variant(owner.merchant, "LS-M")
    HostingFactory(variant=shirt, vendor=cebu, vendor_sku="C-1")

    actions.host_variants([shirt.pk], actions.HostingTerms(vendor_id=davao.pk, unit_cost="99.00"), by=owner)
    with pytest.raises(actions.InvalidHosting) as refusal:
        actions.host_variants([shirt.pk], actions.HostingTerms(vendor_id=gone.pk, unit_cost="1.00"), by=owner)

    hosting = Hosting.objects.get(variant=shirt)
    assert (hosting.vendor, hosting.unit_cost, hosting.vendor_sku) == (davao, Decimal("99.00"), "C-1")
    assert refusal.value.field == "vendor" and "inactive" in refusal.value.message


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("-1", "must be zero or more"),
        ("1.234", "more than two decimal places"),
        ("abc", "is not an amount"),
        ("", "Enter the unit cost"),
    ],
)
def test_a_cost_that_is_not_an_amount_is_refused_beside_its_field(owner, cost, message):
    vendor = VendorFactory(merchant=owner.merchant)
    shirt = variant(owner.merchant, "LS-M")

    with pytest.raises(actions.InvalidHosting) as refusal:
        actions.host_variants([shirt.pk], actions.HostingTerms(vendor_id=vendor.pk, unit_cost=cost), by=owner)

    assert message in refusal.value.message and refusal.value.field == "unit_cost"
    assert not Hosting.objects.exists()


CSV = (
    "sku,vendor,unit_cost,shipping_cost,vendor_sku\n"
    "LS-M,Cebu Source,320.00,45.00,CSC-LS-M\n"
    "CT-1,cebu source,120,,\n"
    "NOPE,Cebu Source,1.00,0,\n"
    "MG-1,Nobody Ltd,1.00,0,\n"
    "SC-1,Cebu Source,-5,0,\n"
    "LS-M,Cebu Source,1.00,0,\n"
)


def test_the_csv_preview_lists_each_bad_row_with_its_reason_and_writes_nothing(owner_client, owner):
    VendorFactory(merchant=owner.merchant, name="Cebu Source")
    for sku in ("LS-M", "CT-1", "MG-1", "SC-1"):
        variant(owner.merchant, sku)

    answer = owner_client.post(
        reverse("vendors:hosting_import"),
        {"file": SimpleUploadedFile("hosting.csv", CSV.encode(), "text/csv")},
    )

    page = answer.content.decode()
    assert answer.status_code == 200
    assert 'Line 4</strong> (NOPE): <span class="field-error">No product has SKU NOPE.' in page
    assert "No vendor is named Nobody Ltd" in page
    assert "The unit cost must be zero or more." in page
    assert "SKU LS-M is already on line 2." in page
    assert "Import 2 rows" in page
    assert not Hosting.objects.exists()


def test_importing_writes_the_good_rows_and_the_same_file_again_changes_nothing(owner_client, owner):
    cebu = VendorFactory(merchant=owner.merchant, name="Cebu Source")
    for sku in ("LS-M", "CT-1", "MG-1"):
        variant(owner.merchant, sku)

    for _ in range(2):
        preview = owner_client.post(
            reverse("vendors:hosting_import"), {"file": SimpleUploadedFile("h.csv", CSV.encode(), "text/csv")}
        )
        digest = preview.context["digest"]
        owner_client.post(reverse("vendors:hosting_import_confirm"), {"digest": digest})

    assert {
        (h.variant.sku, h.vendor, h.unit_cost, h.shipping_cost, h.vendor_sku) for h in Hosting.objects.all()
    } == {
        ("LS-M", cebu, Decimal("320.00"), Decimal("45.00"), "CSC-LS-M"),
        ("CT-1", cebu, Decimal("120.00"), Decimal("0.00"), ""),
    }
    again = hosting_csv.read_hosting_csv(owner.merchant, CSV)
    assert [row.change for row in again.rows] == ["unchanged", "unchanged"]


def test_a_file_without_the_columns_is_refused_beside_the_file_field(owner_client, owner):
    answer = owner_client.post(
        reverse("vendors:hosting_import"),
        {"file": SimpleUploadedFile("h.csv", b"name,price\nx,1\n", "text/csv")},
    )

    assert answer.status_code == 422
    assert "The file has no sku, unit_cost, vendor columns." in answer.content.decode()


def test_the_template_has_the_columns_the_import_reads(owner_client):
    answer = owner_client.get(reverse("vendors:hosting_template"))

    assert answer.content.decode().splitlines()[0] == "sku,vendor,unit_cost,shipping_cost,vendor_sku"


def test_the_owner_turns_auto_processing_off_on_the_account_page(owner_client, owner):
    page = owner_client.get(reverse("accounts:account")).content.decode()
    assert "Auto-processing" in page and reverse("vendors:list") in page

    owner_client.post(reverse("vendors:processing_settings"), {"fulfil_when_delivered": "on"})

    merchant = Merchant.objects.get(pk=owner.merchant.pk)
    assert (merchant.auto_processing, merchant.fulfil_when_delivered) == (False, True)


def test_staff_see_the_processing_settings_but_cannot_change_them(client, owner):
    staff = MembershipFactory(merchant=owner.merchant, role="staff")
    client.force_login(staff.user)

    assert "Only the owner can change these." in client.get(reverse("accounts:account")).content.decode()
    assert client.post(reverse("vendors:processing_settings"), {}).status_code == 403
    assert Merchant.objects.get(pk=owner.merchant.pk).auto_processing is True
    assert isinstance(Actor.for_user(staff.user), Actor)
