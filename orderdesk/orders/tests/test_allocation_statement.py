"""Auto-allocation's writes: on PostgreSQL the shipments, their lines, tracking events, counts and
the vendors' digests are one prepared statement; on SQLite a few INSERTs. Either way the same rows."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications import delivery
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions
from orderdesk.orders.actions import LineInput
from orderdesk.orders.allocation_messages import TOPIC, queue_allocation_digests
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory, variant

ALLOCATION_STATEMENT = "WITH s AS (INSERT INTO"


def make_shop(*, davao_email="davao@vendor.example"):
    """Auto-processing on; a shirt and a tote hosted with Cebu, a mug with Davao."""
    actor = owner_actor(MerchantFactory(notification_email="", notification_phone=""))
    merchant = actor.merchant
    Merchant.objects.filter(pk=merchant.pk).update(auto_processing=True)
    cebu = VendorFactory(merchant=merchant, name="Cebu Source", contact_email="cebu@vendor.example")
    davao = VendorFactory(merchant=merchant, name="Davao Makers", contact_email=davao_email)
    shirt = variant(merchant, "LS-M", "M", product="Linen shirt")
    tote = variant(merchant, "CT-1", product="Canvas tote")
    mug = variant(merchant, "MG-1", product="Clay mug")
    HostingFactory(variant=shirt, vendor=cebu, unit_cost=Decimal("300.00"), shipping_cost=Decimal("40.00"))
    HostingFactory(variant=tote, vendor=cebu, unit_cost=Decimal("120.00"), shipping_cost=Decimal("25.00"))
    HostingFactory(variant=mug, vendor=davao, unit_cost=Decimal("90.00"), shipping_cost=Decimal("30.00"))
    return actor, cebu, davao, (shirt, tote, mug)


def paid_order(actor, variants, *, reference, notify=True):
    new = actions.NewOrder(
        customer=actions.CustomerDetails(name="Ana Reyes", phone="0917 555 0101", address="Makati"),
        lines=[
            LineInput(
                title=v.product.title, sku=v.sku, quantity=n, unit_price=Decimal("500.00"), variant_id=v.pk
            )
            for v, n in zip(variants, (1, 2, 3), strict=False)
        ],
        payment_method="card",
        reference=reference,
    )
    return actions.record_order(new, by=actor, payment_confirmed=True, notify=notify)


def digests_of(order):
    shipment_ids = set(Fulfillment.objects.filter(order=order).values_list("pk", flat=True))
    return [
        digest
        for digest in Notification.objects.filter(topic=TOPIC).order_by("pk")
        if set(digest.payload["shipment_ids"]) <= shipment_ids
    ]


@pytest.mark.django_db
def test_the_vendors_digest_costs_no_statement_of_its_own_on_postgresql():
    actor, _, _, variants = make_shop()

    def statements_to_record(reference: str, *, auto: bool) -> int:
        Merchant.objects.filter(pk=actor.merchant.pk).update(auto_processing=auto)
        with CaptureQueriesContext(connection) as captured:
            order = paid_order(actor, variants, reference=reference)
        assert len(digests_of(order)) == (2 if auto else 0)
        return captured

    statements_to_record("WARM-1", auto=False)  # the customer and the counts' rows
    by_hand = statements_to_record("HAND-1", auto=False)
    auto = statements_to_record("AUTO-1", auto=True)

    # The hosted lines, then on PostgreSQL one statement writing the shipments, their lines,
    # tracking events, counts and both vendors' digests; on SQLite those one INSERT each.
    writes = 1 if connection.vendor == "postgresql" else 5
    assert len(auto) - len(by_hand) == 1 + writes
    if connection.vendor == "postgresql":
        assert sum(query["sql"].startswith(ALLOCATION_STATEMENT) for query in auto.captured_queries) == 1


@pytest.mark.django_db
def test_each_vendor_with_an_email_gets_one_digest_naming_its_shipments():
    actor, cebu, _, variants = make_shop(davao_email="")

    order = paid_order(actor, variants, reference="MAIL-1")

    [digest] = digests_of(order)
    [cebu_shipment] = Fulfillment.objects.filter(order=order, vendor=cebu)
    assert (digest.recipient, digest.audience, digest.channel) == ("cebu@vendor.example", "vendor", "email")
    assert digest.payload == {"vendor_id": cebu.pk, "shipment_ids": [cebu_shipment.pk]}
    assert digest.idempotency_key == f"vendor-allocation:{cebu.pk}:{cebu_shipment.pk}"
    assert (digest.merchant_id, digest.about_type, digest.about_id) == (
        actor.merchant.pk,
        "vendor",
        str(cebu.pk),
    )
    assert Fulfillment.objects.filter(order=order).count() == 2  # Davao's shipment, without an email


@pytest.mark.django_db
def test_the_digests_are_handed_to_delivery_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    actor, _, _, variants = make_shop()
    started = []
    monkeypatch.setattr(delivery, "start_delivery", started.extend)

    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(actor, variants, reference="SEND-1")

    assert {digest.pk for digest in digests_of(order)} <= set(started)
    assert len(digests_of(order)) == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_digest_written_by_the_allocation_statement_is_the_row_the_outbox_writes():
    actor, _, _, variants = make_shop()
    order = paid_order(actor, variants, reference="SAME-1")
    in_statement = digests_of(order)
    shipments = list(Fulfillment.objects.filter(order=order).select_related("vendor"))
    for shipment in shipments:
        shipment.vendor_email = shipment.vendor.contact_email

    by_outbox = queue_allocation_digests(shipments, merchant_id=actor.merchant.pk, key="compare")

    def columns(row):
        row = Notification.objects.get(pk=row.pk)
        times = (row.created_at, row.next_attempt_at)
        values = {
            f.attname: getattr(row, f.attname)
            for f in Notification._meta.concrete_fields
            if f.attname not in ("id", "idempotency_key", "created_at", "next_attempt_at")
        }
        return values, times

    assert len(in_statement) == len(by_outbox) == 2
    for written, queued in zip(in_statement, sorted(by_outbox, key=lambda row: row.pk), strict=True):
        (written_values, written_times), (queued_values, _) = columns(written), columns(queued)
        assert written_values == queued_values
        assert written_times[0] == written_times[1] and written_times[0] is not None


@pytest.fixture
def preparing():
    """The connection prepares statements (Django's default is never: OPTIONS' prepare_threshold)."""
    connection.ensure_connection()
    psycopg_connection = connection.connection
    was = psycopg_connection.prepare_threshold
    psycopg_connection.prepare_threshold = 5
    yield
    psycopg_connection.prepare_threshold = was


def prepared_allocations() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [ALLOCATION_STATEMENT + "%"],
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_allocation_still_works_after_a_rollback_of_a_transaction_that_prepared_it(preparing):
    """psycopg forgets (DEALLOCATE ALL) what it prepared when a transaction it prepared in rolls
    back, and prepares again on the next run: a statement prepared by hand would be gone."""
    actor, _, _, variants = make_shop()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        paid_order(actor, variants, reference="GONE-1")
        assert prepared_allocations() == 1
        raise Undo
    assert prepared_allocations() == 0  # psycopg's DEALLOCATE ALL after the rollback
    assert not Fulfillment.objects.exists()
    assert not Notification.objects.filter(topic=TOPIC).exists()

    with transaction.atomic():
        order = paid_order(actor, variants, reference="KEPT-1")
        # A savepoint rolled back inside: psycopg forgets again, and prepares again.
        with pytest.raises(Undo), transaction.atomic():
            paid_order(actor, variants, reference="GONE-2")
            raise Undo
        later = paid_order(actor, variants, reference="KEPT-2")
    assert prepared_allocations() == 1

    for kept in (order, later):
        assert Fulfillment.objects.filter(order=kept).count() == 2
        assert len(digests_of(kept)) == 2
    assert Fulfillment.objects.count() == 4
    assert Notification.objects.filter(topic=TOPIC).count() == 4
