"""Exports read back: CSV parsed, XLSX opened with openpyxl; money, dates and zones as a spreadsheet
expects them; large ones made in the background with progress, a download link and an email."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, new_order, pending_order
from orderdesk.reports.models import Export

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def xlsx_rows(content: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def placed_near_midnight(owner) -> Order:
    """An order placed at 00:30 on Nov 2 in Manila: still Nov 1 in UTC."""
    order = dispatched_order(owner)
    placed_at = datetime.datetime(2026, 11, 1, 16, 30, tzinfo=datetime.UTC)
    Order.objects.filter(pk=order.pk).update(placed_at=placed_at)
    return Order.objects.get(pk=order.pk)


def test_an_orders_csv_has_local_dates_and_money_with_two_decimals(owner_client, owner):
    order = placed_near_midnight(owner)

    answer = owner_client.get(
        reverse("reports:export"),
        {"kind": "orders", "file_format": "csv", "starts_on": "2026-11-02", "ends_on": "2026-11-02"},
    )

    assert answer.status_code == 200 and answer.streaming
    assert answer["Content-Disposition"].endswith('orders-2026-11-02-to-2026-11-02.csv"')
    [row] = csv_rows(answer)
    assert row["Order"] == order.reference
    assert row["Placed on"] == "2026-11-02"
    assert row["Placed at"] == "2026-11-02 00:30:00"
    assert row["Total"] == f"{order.total:.2f}" and row["Shipping fee"] == "120.00"
    assert row["Status"] == "dispatched"


def test_an_orders_xlsx_holds_real_dates_and_numbers(owner_client, owner):
    order = placed_near_midnight(owner)

    answer = owner_client.get(reverse("reports:export"), {"kind": "orders", "file_format": "xlsx"})

    assert answer.status_code == 200
    [row] = xlsx_rows(b"".join(answer.streaming_content))
    assert row["Placed on"] == datetime.datetime(2026, 11, 2)
    assert row["Placed at"] == datetime.datetime(2026, 11, 2, 0, 30)
    assert isinstance(row["Total"], float) and Decimal(str(row["Total"])) == order.total


def test_lines_shipments_and_costs_round_trip(owner_client, owner):
    order = dispatched_order(owner)
    lines = {
        row["SKU"]: row
        for row in csv_rows(
            owner_client.get(reverse("reports:export"), {"kind": "lines", "file_format": "csv"})
        )
    }
    assert lines["LS-M"]["Quantity"] == "2" and lines["LS-M"]["Line total"] == "1598.00"
    assert lines["CT-1"]["Unit price"] == "350.50"

    [shipment] = xlsx_rows(
        b"".join(
            owner_client.get(
                reverse("reports:export"), {"kind": "shipments", "file_format": "xlsx"}
            ).streaming_content
        )
    )
    assert shipment["Order"] == order.reference
    assert shipment["Shipping status"] == "in_transit" and shipment["Shipped by"] == "The shop"
    assert isinstance(shipment["In transit at"], datetime.datetime)

    costs = csv_rows(owner_client.get(reverse("reports:export"), {"kind": "costs", "file_format": "csv"}))
    assert sorted((row["SKU"], row["Revenue"], row["Cost"], row["Margin"]) for row in costs) == [
        ("CT-1", "350.50", "0.00", "350.50"),
        ("LS-M", "1598.00", "0.00", "1598.00"),
    ]


def test_an_order_tracking_filter_picks_the_same_orders(owner_client, owner):
    pending_order(
        owner, customer=new_order().customer.__class__(name="Rosa Dizon", phone="", email="", address="")
    )
    pending_order(owner)
    dispatched_order(owner)

    rows = csv_rows(
        owner_client.get(
            reverse("reports:export"),
            {"kind": "orders", "file_format": "csv", "status": "pending", "q": "Rosa"},
        )
    )

    assert [row["Customer"] for row in rows] == ["Rosa Dizon"]


def test_another_merchants_orders_never_reach_an_export(owner_client, owner):
    other = owner_actor(MerchantFactory())
    pending_order(other)
    pending_order(owner)

    rows = csv_rows(owner_client.get(reverse("reports:export"), {"kind": "orders", "file_format": "csv"}))

    assert len(rows) == 1


def test_a_large_export_is_made_in_the_background_then_downloaded_and_emailed(
    owner_client, owner, settings, django_capture_on_commit_callbacks
):
    settings.REPORTS_EXPORT_STREAM_MAX_ROWS = 1
    for _ in range(3):
        pending_order(owner)
    asked = {"kind": "orders", "file_format": "xlsx"}

    offered = owner_client.get(reverse("reports:export"), asked)
    assert offered.status_code == 200 and "Make it in the background" in offered.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post(reverse("reports:export"), asked)
    assert answer.status_code == 302

    export = Export.objects.get(merchant=owner.merchant)
    assert export.status == Export.Status.DONE and export.row_count == 3
    listed = owner_client.get(reverse("reports:exports")).content.decode()
    assert reverse("reports:export_download", args=[export.pk]) in listed
    download = owner_client.get(reverse("reports:export_download", args=[export.pk]))
    assert len(xlsx_rows(b"".join(download.streaming_content))) == 3
    [email] = [message for message in mail.outbox if "export is ready" in message.subject]
    assert email.to == [owner.user.email]
    assert reverse("reports:export_download", args=[export.pk]) in email.body


def test_another_merchants_export_is_a_404(client, owner, settings, django_capture_on_commit_callbacks):
    from orderdesk.reports.actions import ask_for_export

    with django_capture_on_commit_callbacks(execute=True):
        export = ask_for_export(by=owner, kind="orders", file_format="csv", criteria={})
    stranger = owner_actor(MerchantFactory())
    client.force_login(stranger.user)

    assert client.get(reverse("reports:export_download", args=[export.pk])).status_code == 404


def test_an_export_form_with_an_unknown_kind_is_refused_beside_the_field(owner_client):
    answer = owner_client.get(reverse("reports:export"), {"kind": "everything", "file_format": "csv"})

    assert answer.status_code == 422
    assert "Select a valid choice" in answer.content.decode()
    assert not Export.objects.exists()


def test_after_sales_cases_export_with_their_money_and_times(owner_client, owner):
    from orderdesk.aftersales.models import AfterSalesCase

    order = pending_order(owner)
    AfterSalesCase.objects.create(
        merchant=owner.merchant,
        order=order,
        type="product_broken",
        mode="refund",
        text="Cracked",
        created_by_name="Ana",
        customer_refund=Decimal("250.5"),
    )

    [row] = csv_rows(
        owner_client.get(reverse("reports:export"), {"kind": "after_sales", "file_format": "csv"})
    )

    assert row["Order"] == order.reference
    assert (row["Type"], row["Mode"], row["Status"]) == ("product_broken", "refund", "open")
    assert row["Refunded to the customer"] == "250.50" and row["Vendor"] == ""


def test_every_kind_of_export_is_the_same_whether_the_database_or_python_formats_it(owner, monkeypatch):
    """On PostgreSQL the CSV comes from COPY and the XLSX rows' local times from AT TIME ZONE; they
    must hold exactly what Python makes of the rows (on SQLite both roads are Python's)."""
    from orderdesk.aftersales.models import AfterSalesCase
    from orderdesk.reports import exports

    order = placed_near_midnight(owner)
    Order.objects.filter(pk=order.pk).update(
        customer_name='Ana "Ni\u00f1a", de la Cruz\nUnit 2', customer_email=""
    )
    pending_order(owner)
    AfterSalesCase.objects.create(
        merchant=owner.merchant, order=order, type="product_broken", mode="refund", text="x",
        created_by_name="Ana", customer_refund=Decimal("12.5"),
    )  # fmt: skip
    merchant = owner.merchant
    orders = exports.orders_for(merchant, {})

    def written(sheet) -> bytes:
        out = io.BytesIO()
        exports.write_csv(sheet, merchant, orders, out)
        return out.getvalue()

    def rows() -> dict:
        return {kind: list(sheet.rows(merchant, orders)) for kind, sheet in exports.SHEETS.items()}

    by_database, rows_by_database = {kind: written(sheet) for kind, sheet in exports.SHEETS.items()}, rows()
    monkeypatch.setattr(exports, "formats_in_the_database", lambda: False)
    by_python, rows_by_python = {kind: written(sheet) for kind, sheet in exports.SHEETS.items()}, rows()

    assert by_database == by_python
    assert rows_by_database == rows_by_python
    [row, _] = list(csv.DictReader(io.StringIO(by_database["orders"].decode("utf-8")[1:])))
    assert row["Customer"] == 'Ana "Ni\u00f1a", de la Cruz\nUnit 2' and row["Email"] == ""
    assert row["Placed at"] == "2026-11-02 00:30:00"


def test_an_xlsx_longer_than_a_sheet_goes_on_in_new_sheets_with_the_header_again(owner, monkeypatch):
    from orderdesk.reports import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)  # a header and two rows per sheet
    placed = [pending_order(owner).reference for _ in range(5)]
    out = io.BytesIO()

    written = exports.write_xlsx(
        exports.SHEETS["orders"], owner.merchant, exports.orders_for(owner.merchant, {}), out
    )

    workbook = load_workbook(io.BytesIO(out.getvalue()))
    assert written == 5
    assert workbook.sheetnames == ["Orders", "Orders (2)", "Orders (3)"]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    assert [len(rows) for rows in sheets] == [3, 3, 2]
    assert all(rows[0][0] == "Order" for rows in sheets)
    assert [row[0] for rows in sheets for row in rows[1:]] == placed


def test_an_xlsx_of_exactly_one_sheet_opens_no_empty_second_one(owner, monkeypatch):
    from orderdesk.reports import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    for _ in range(2):
        pending_order(owner)
    out = io.BytesIO()

    exports.write_xlsx(exports.SHEETS["orders"], owner.merchant, exports.orders_for(owner.merchant, {}), out)

    assert load_workbook(io.BytesIO(out.getvalue())).sheetnames == ["Orders"]


def test_an_xlsx_keeps_text_as_typed_but_drops_what_xml_cannot_hold(owner):
    from orderdesk.reports import exports

    order = pending_order(owner)
    Order.objects.filter(pk=order.pk).update(customer_name=" Ana <&> Cruz\x01 ", customer_email="")
    out = io.BytesIO()

    exports.write_xlsx(exports.SHEETS["orders"], owner.merchant, exports.orders_for(owner.merchant, {}), out)

    [row] = xlsx_rows(out.getvalue())
    assert row["Customer"] == " Ana <&> Cruz "
    assert row["Email"] == "" or row["Email"] is None
