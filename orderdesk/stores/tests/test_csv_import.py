import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from orderdesk.notifications.queries import notifications_about
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.stores import actions, csv_import
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.errors import InvalidStoreDetails
from orderdesk.stores.models import SyncRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def csv_store(owner):
    return actions.add_store(StoreDetails(channel="csv", name="Bazaar sheet"), by=owner)


def template_file(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_import.TEMPLATE_COLUMNS)
    writer.writeheader()
    base = dict(zip(csv_import.TEMPLATE_COLUMNS, csv_import.TEMPLATE_EXAMPLE, strict=True))
    for row in rows:
        writer.writerow({**base, **row})
    return out.getvalue().encode()


GOOD_AND_BAD = [
    {"order_id": "1001"},
    {
        "order_id": "1001",
        "sku": "CT-1",
        "title": "Canvas tote",
        "variant_title": "",
        "quantity": "1",
        "unit_price": "350.50",
    },
    {"order_id": "1002", "quantity": "2147483648"},
    {"order_id": "1003", "unit_price": "ten"},
    {"order_id": "1004", "customer_name": "Ben Santos", "currency": "USD"},
    {"order_id": "1005", "customer_name": "Lia Cruz"},
]


def test_the_preview_lists_good_orders_and_each_bad_row_with_its_reason_and_writes_nothing(csv_store):
    preview = csv_import.read_csv(template_file(GOOD_AND_BAD), store=csv_store)
    assert [(rows, order.external_id) for rows, order in preview.orders] == [([2, 3], "1001"), ([7], "1005")]
    assert [(e.row, e.message) for e in preview.errors] == [
        (
            4,
            "Order 1002: Item 1 (Linen shirt) has a quantity of 2,147,483,648; at most 100,000 of one item per order.",
        ),
        (5, "Order 1003: The price of Linen shirt “ten” is not an amount."),
        (6, "Order 1004: The order is in USD, but the shop keeps its books in PHP."),
    ]
    assert preview.importable == 2
    assert not Order.objects.exists()
    assert not OrderEvent.objects.exists()
    assert not SyncRun.objects.exists()


def test_importing_takes_the_good_orders_in_quietly_and_the_same_file_twice_changes_nothing(csv_store):
    data = template_file(GOOD_AND_BAD)
    run = csv_import.import_csv(data, store=csv_store)
    assert (run.new_count, run.failed_count) == (2, 3)
    order = Order.objects.get(external_id="1001")
    assert order.status == Order.Status.PENDING
    assert order.lines.count() == 2
    assert order.customer_phone == "+639175550199"
    assert not notifications_about(order.merchant, "order", order.pk).exists()
    events = OrderEvent.objects.count()
    assert csv_import.read_csv(data, store=csv_store).already_imported == 2
    again = csv_import.import_csv(data, store=csv_store)
    assert (again.new_count, again.unchanged_count) == (0, 2)
    assert OrderEvent.objects.count() == events


def test_shopifys_orders_export_is_accepted(csv_store):
    header = [
        "Name", "Email", "Financial Status", "Fulfillment Status", "Currency", "Shipping", "Discount Amount",
        "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku", "Shipping Name",
        "Shipping Address1", "Shipping City", "Shipping Zip", "Shipping Country", "Shipping Phone",
        "Shipping Method", "Payment Method", "Cancelled at", "Id",
    ]  # fmt: skip
    rows = [
        ["#1001", "rosa@example.com", "paid", "unfulfilled", "PHP", "120.00", "0.00", "2026-11-20 16:00:00 +0800",
         "2", "Linen shirt - M", "799.00", "LS-M", "Rosa Reyes", "5 Rizal Ave", "Quezon City", "1100", "PH",
         "+639175550199", "J&T Express", "Shopify Payments", "", "5550001"],
        ["#1001", "rosa@example.com", "", "", "", "", "", "", "1", "Canvas tote", "350.50", "CT-1", "", "", "", "",
         "", "", "", "", "", ""],
        ["#1002", "ben@example.com", "pending", "unfulfilled", "PHP", "0.00", "0.00", "2026-11-20 17:00:00 +0800",
         "1", "Cap", "250.00", "CAP", "Ben", "1 Main", "Pasig", "1600", "PH", "", "Pickup", "Bank Deposit", "",
         "5550002"],
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    preview = csv_import.read_csv(out.getvalue().encode(), store=csv_store)
    assert (preview.importable, preview.not_paid, preview.errors) == (1, 1, [])
    csv_import.import_csv(out.getvalue().encode(), store=csv_store)
    order = Order.objects.get()
    assert order.external_id == "5550001"
    assert order.total == 799 * 2 + 350.50 + 120
    assert order.payment_method == Order.PaymentMethod.CARD


ROUGH_FILE = (
    "order_id,customer_name,title,quantity,unit_price\r\n"
    " A1 ,  Rosa Reyes ,  Linen shirt , 2 , 799.00 \r\n"
    "\r\n"
    "A2,Ben Santos,Cap,1\r\n"
    "A3,Lia Cruz,Tote,1,100.00,surplus\r\n"
    ",Nobody,Tote,1,1.00\r\n"
    "A4,Mia Lim,Tote, 007 ,5.00\r\n"
)


def test_cells_are_read_stripped_a_short_rows_missing_cells_as_empty_and_blank_rows_are_not_counted(
    csv_store,
):
    preview = csv_import.read_csv(ROUGH_FILE.encode(), store=csv_store)
    assert [(rows, order.external_id) for rows, order in preview.orders] == [
        ([2], "A1"),
        ([3], "A2"),
        ([6], "A4"),
    ]
    assert [(e.row, e.message) for e in preview.errors] == [
        (4, "The row has more cells than the header."),
        (5, "The row has no order_id."),
    ]
    run = csv_import.import_csv(ROUGH_FILE.encode() + b"A5,Noel\x00Cruz,Tote,1,5.00\r\n", store=csv_store)
    assert (run.new_count, run.failed_count) == (3, 3)
    assert run.failures == [
        {"external_id": "row 4", "reason": "The row has more cells than the header."},
        {"external_id": "row 5", "reason": "The row has no order_id."},
        {"external_id": "row 7", "reason": "The row contains NUL characters."},
    ]
    first = Order.objects.get(external_id="A1")
    assert first.customer_name == "Rosa Reyes"
    assert [(line.title, line.quantity, line.unit_price) for line in first.lines.all()] == [
        ("Linen shirt", 2, Decimal("799.00"))
    ]
    assert Order.objects.get(external_id="A2").lines.get().unit_price == Decimal("0.00")
    assert Order.objects.get(external_id="A4").lines.get().quantity == 7


@pytest.mark.parametrize(
    ("quantity", "read_as", "refusal"),
    [
        ("1.5", None, "The quantity of Linen shirt “1.5” is not a whole number."),
        ("２", 2, None),
        ("3.0", 3, None),
        ("-2", None, "Item 1 (Linen shirt) needs a quantity of at least 1."),
        ("", None, "The quantity of Linen shirt “” is not a number."),
    ],
)
def test_a_quantity_other_than_plain_digits_is_read_as_a_number_or_refused(
    csv_store, quantity, read_as, refusal
):
    preview = csv_import.read_csv(
        template_file([{"order_id": "1001", "quantity": quantity}]), store=csv_store
    )
    assert [order.lines[0].quantity for _, order in preview.orders] == ([read_as] if read_as else [])
    assert [e.message for e in preview.errors] == ([f"Order 1001: {refusal}"] if refusal else [])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"name,phone\nRosa,1\n",
            "The file lacks the columns customer_name, order_id, quantity, title, unit_price.",
        ),
        ("order_id,customer_name\n".encode("utf-16"), "The file is not UTF-8 text"),
        (b"order_id,customer_name,title,quantity,unit_price\n1,\x00,a,1,1\n", "NUL characters"),
    ],
)
def test_a_file_that_is_not_an_orders_csv_is_refused_whole(csv_store, data, message):
    with pytest.raises(InvalidStoreDetails) as refusal:
        csv_import.read_csv(data, store=csv_store)
    assert message in refusal.value.message
    assert not Order.objects.exists()


def test_the_template_can_be_downloaded_and_imports_as_is(owner_client, csv_store):
    answer = owner_client.get(reverse("stores:csv_template"))
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    preview = csv_import.read_csv(answer.content, store=csv_store)
    assert (preview.importable, preview.errors) == (1, [])


def test_preview_then_confirm_in_the_pages(owner_client, csv_store):
    upload = io.BytesIO(template_file(GOOD_AND_BAD))
    upload.name = "orders.csv"
    answer = owner_client.post(reverse("stores:csv_preview", args=[csv_store.pk]), {"file": upload})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Order 1003: The price of Linen shirt “ten” is not an amount." in page
    assert "Import 2 orders" in page
    assert not Order.objects.exists()
    digest = answer.context["digest"]
    done = owner_client.post(
        reverse("stores:csv_confirm", args=[csv_store.pk]), {"digest": digest}, follow=True
    )
    assert "Imported: 2 new, 0 updated, 0 unchanged, 3 failed." in done.content.decode()
    assert Order.objects.count() == 2
    stale = owner_client.post(
        reverse("stores:csv_confirm", args=[csv_store.pk]), {"digest": digest}, follow=True
    )
    assert "That preview has expired; upload the file again." in stale.content.decode()
    assert Order.objects.count() == 2
