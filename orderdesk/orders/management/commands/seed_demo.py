"""Demo data: one merchant, its owner, a catalog and a few hundred orders in every status.

Orders go through the real domain functions, so each carries the lines, shipments,
photos, events and outbox rows a real one has; afterwards their timestamps are moved
back in time so the lists look like a month of trading.
"""

import datetime
import io
import logging
import random
from decimal import Decimal

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image, ImageDraw

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership, Merchant, User
from orderdesk.catalog.models import Product, Variant
from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails, LineInput, NewOrder
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.vendors.models import Hosting, Vendor

DEMO_EMAIL = "demo@orderdesk.local"
DEMO_PASSWORD = "orderdesk-demo"
ADMIN_EMAIL = "admin@orderdesk.local"

FIRST_NAMES = [
    "Maria",
    "Jose",
    "Ana",
    "Juan",
    "Liza",
    "Mark",
    "Grace",
    "Paolo",
    "Bea",
    "Carlo",
    "Joy",
    "Miguel",
    "Kristine",
    "Rafael",
    "Nicole",
    "Jerome",
    "Camille",
    "Angelo",
]
LAST_NAMES = [
    "Santos",
    "Reyes",
    "Cruz",
    "Bautista",
    "Garcia",
    "Mendoza",
    "Torres",
    "Villanueva",
    "Ramos",
    "Aquino",
    "Navarro",
    "Dela Cruz",
    "Castillo",
    "Flores",
    "Lim",
    "Tan",
]
PLACES = [
    "Unit 4B, 112 Jupiter St, Bel-Air, Makati City, Metro Manila 1209",
    "23 Maginhawa St, Teachers Village, Quezon City, Metro Manila 1101",
    "Blk 7 Lot 12, Camella Homes, Bacoor, Cavite 4102",
    "88 Gorordo Ave, Lahug, Cebu City, Cebu 6000",
    "15 Rizal Ave, Poblacion, Davao City, Davao del Sur 8000",
    "210 Shaw Blvd, Mandaluyong City, Metro Manila 1552",
    "9 Session Rd, Baguio City, Benguet 2600",
    "45 Lopez Jaena St, Jaro, Iloilo City, Iloilo 5000",
]
COURIERS = ["J&T Express", "LBC Express", "Ninja Van", "Flash Express", "GrabExpress", "Lalamove"]
CATALOG = [
    ("Abaca tote bag", [("Natural", "890.00"), ("Indigo", "950.00")]),
    ("Handwoven inabel throw", [("Blue stripes", "1850.00"), ("Red diamond", "1850.00")]),
    ("Barako coffee beans 500 g", [("Whole bean", "420.00"), ("Ground", "420.00")]),
    ("Capiz shell lamp", [("Small", "1290.00"), ("Large", "2150.00")]),
    ("Linen barong shirt", [("M", "2450.00"), ("L", "2450.00"), ("XL", "2550.00")]),
    ("Rattan fan", [("Plain", "180.00")]),
    ("Calamansi soap set", [("3 bars", "299.00")]),
    ("Piña cloth scarf", [("Cream", "1590.00")]),
]
PAYMENTS = [
    Order.PaymentMethod.GCASH,
    Order.PaymentMethod.GCASH,
    Order.PaymentMethod.MAYA,
    Order.PaymentMethod.CARD,
    Order.PaymentMethod.BANK_TRANSFER,
    Order.PaymentMethod.CASH_ON_DELIVERY,
]
# The demo's source agents, and which products (by catalog index) each hosts at what cost per
# unit (product, shipping). The rattan fan and the soap set are left unhosted: the merchant
# ships them, and the Pending tab's Place lists them.
VENDORS = [
    (
        "Cebu Source Co.",
        "orders@cebusource.example",
        "+639175550111",
        2,
        {0: ("520.00", "45.00"), 3: ("760.00", "90.00")},
    ),
    (
        "Ilocos Weavers Guild",
        "hello@ilocosweavers.example",
        "+639185550122",
        4,
        {1: ("1100.00", "80.00"), 7: ("900.00", "40.00")},
    ),
    ("Batangas Roasters", "", "+639275550133", 1, {2: ("230.00", "35.00"), 4: ("1500.00", "60.00")}),
]
VENDOR_PLACES = ["Mandaue sorting hub", "Pasig hub", "Calamba transit hub", "Out for delivery"]

# How the demo orders are spread over the statuses.
STATUS_MIX = (
    [Order.Status.PENDING] * 30
    + [Order.Status.DISPATCHED] * 25
    + [Order.Status.FULFILLED] * 30
    + [Order.Status.CANCELLED] * 8
    + [Order.Status.AWAITING_PAYMENT] * 7
)


class Command(BaseCommand):
    help = "Fill the database with a demo merchant, its owner and a few hundred orders."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=300)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when a merchant exists.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, orders: int, if_empty: bool, seed: int, **options):
        if if_empty and Merchant.objects.exists():
            self.stdout.write("The database already has data; demo data not added.")
            return
        rng = random.Random(seed)
        with transaction.atomic():
            merchant, owner = self._merchant_and_owner()
        actor = Actor.for_user(owner)
        stores = self._stores(merchant)
        variants = self._catalog(merchant)
        self._vendors(merchant, variants)
        # In-process delivery would log every demo message it finds already sent.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        for number in range(orders):
            # One transaction per order, so its messages are marked sent before delivery
            # starts after commit: the demo's outbox is history, not mail to send.
            with transaction.atomic():
                self._order(actor, rng, number, stores, variants)
        if apps.is_installed("orderdesk.aftersales"):
            # After-sales cases in every status: that app adds them (orders never imports it).
            call_command("seed_after_sales", owner=DEMO_EMAIL, stdout=self.stdout._out)
        self.stdout.write(
            self.style.SUCCESS(f"Demo merchant “{merchant.name}” with {orders} orders is ready.")
        )
        self.stdout.write(f"Sign in as {DEMO_EMAIL} / {DEMO_PASSWORD} (admin: {ADMIN_EMAIL}, same password).")

    def _merchant_and_owner(self):
        merchant = Merchant.objects.create(
            name="Lakbay Crafts",
            short_name="LAKBAY",
            notification_phone="+639171234567",
            notification_email="owner@lakbay.example",
            order_reference_prefix="LK",
            default_processing_days=3,
        )
        owner = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, first_name="Rosa", last_name="Dizon")
        Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            User.objects.create_superuser(ADMIN_EMAIL, DEMO_PASSWORD, first_name="Site", last_name="Admin")
        return merchant, owner

    def _stores(self, merchant):
        Store = apps.get_model("stores", "Store")  # noqa: N806
        return [
            Store.objects.create(merchant=merchant, name="Manual orders", channel=Store.Channel.MANUAL),
            Store.objects.create(
                merchant=merchant,
                name="Lakbay Shopify",
                channel=Store.Channel.SHOPIFY,
                url="https://lakbay-crafts.example",
            ),
        ]

    def _catalog(self, merchant):
        variants = []
        for index, (title, options) in enumerate(CATALOG, start=1):
            product = Product.objects.create(merchant=merchant, title=title)
            for option_index, (option, price) in enumerate(options, start=1):
                variants.append(
                    Variant.objects.create(
                        merchant=merchant,
                        product=product,
                        sku=f"LK-{index:02d}{option_index}",
                        title=option,
                        price=Decimal(price),
                    )
                )
        return variants

    def _vendors(self, merchant, variants):
        by_product: dict[int, list] = {}
        for variant in variants:
            by_product.setdefault(variant.product_id, []).append(variant)
        products = list(by_product.values())
        for name, email, phone, days, hosted in VENDORS:
            vendor = Vendor.objects.create(
                merchant=merchant, name=name, contact_email=email, contact_phone=phone, processing_days=days
            )
            for index, (unit_cost, shipping_cost) in hosted.items():
                for variant in products[index]:
                    Hosting.objects.create(
                        merchant=merchant,
                        variant=variant,
                        vendor=vendor,
                        vendor_sku=f"{name[:3].upper()}-{variant.sku}",
                        unit_cost=Decimal(unit_cost),
                        shipping_cost=Decimal(shipping_cost),
                    )

    def _move_vendor_shipments(self, actor, rng, order, *, to: str) -> None:
        """Take the order's vendor shipments to `to` the way vendors do: accept, hand to the carrier
        (with a carrier's checkpoint or two), deliver; an exception says why."""
        road = ["processing", "in_transit", "delivered"]
        for shipment in Fulfillment.objects.filter(order_id=order.pk, vendor__isnull=False).order_by("pk"):
            goal = to if to != "mixed" else rng.choice(["pending", "processing", "in_transit", "exception"])
            steps = (
                road[: road.index(goal) + 1]
                if goal in road
                else (["processing", "exception"] if goal == "exception" else [])
            )
            for step in steps:
                if step == "in_transit":
                    courier = rng.choice(COURIERS[:4])
                    actions.move_order_shipment(
                        shipment.pk,
                        by=actor,
                        to=step,
                        carrier=courier,
                        delivery_reference=f"{courier[:2].upper()}{rng.randrange(10**9, 10**10)}",
                    )
                    fulfillment_actions.add_tracking_event(
                        shipment.pk, by=actor, place=rng.choice(VENDOR_PLACES), text="Arrived at the hub"
                    )
                elif step == "exception":
                    actions.move_order_shipment(
                        shipment.pk,
                        by=actor,
                        to=step,
                        reason=rng.choice(["Out of stock at the vendor", "Address could not be found"]),
                    )
                else:
                    actions.move_order_shipment(shipment.pk, by=actor, to=step)

    def _order(self, actor, rng, number, stores, variants):
        Store = apps.get_model("stores", "Store")  # noqa: N806
        target = rng.choice(STATUS_MIX)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        chosen = rng.sample(variants, rng.choice([1, 1, 2, 2, 3]))
        store = rng.choice(stores)
        new = NewOrder(
            customer=CustomerDetails(
                name=name,
                phone=f"09{rng.choice([17, 18, 27, 56, 95])}{rng.randrange(1000000, 9999999)}",
                email=f"{name.split()[0].lower()}.{number}@example.com" if rng.random() < 0.8 else "",
                address=rng.choice(PLACES),
            ),
            lines=[
                LineInput(
                    title=v.product.title,
                    variant_title=v.title,
                    sku=v.sku,
                    quantity=rng.choice([1, 1, 1, 2, 3]),
                    unit_price=v.price,
                    variant_id=v.pk,
                )
                for v in chosen
            ],
            payment_method=rng.choice(PAYMENTS),
            shipping_option=rng.choice(COURIERS),
            shipping_fee=Decimal(rng.choice(["0.00", "85.00", "120.00", "150.00"])),
            processing_days=rng.choice([1, 2, 3, 3, 5]),
            store_id=store.pk,
            external_id=f"{5000 + number}" if store.channel == Store.Channel.SHOPIFY else None,
        )
        order = actions.record_order(new, by=actor)
        # A few pending orders came in while auto-processing was off: Place them from the Pending tab.
        manual = target == Order.Status.PENDING and rng.random() < 0.3
        if manual:
            Merchant.objects.filter(pk=actor.merchant.pk).update(auto_processing=False)
        if target != Order.Status.AWAITING_PAYMENT:
            actions.verify_payment(order.pk, by=actor)
        if manual:
            Merchant.objects.filter(pk=actor.merchant.pk).update(auto_processing=True)
        ships = target in (Order.Status.DISPATCHED, Order.Status.FULFILLED) or (
            target == Order.Status.CANCELLED and rng.random() < 0.3
        )
        if target == Order.Status.PENDING:
            self._move_vendor_shipments(actor, rng, order, to="mixed")
        elif ships:
            self._move_vendor_shipments(
                actor, rng, order, to="delivered" if target == Order.Status.FULFILLED else "in_transit"
            )
        order.refresh_from_db()
        if ships and order.status == Order.Status.PENDING:
            actions.dispatch_order(
                order.pk,
                by=actor,
                delivery_reference=f"{order.shipping_option[:3].upper().replace('&', '')}{rng.randrange(10**9, 10**10)}",
                expected_on=timezone.localdate(timezone=actor.merchant.zone)
                + datetime.timedelta(days=rng.randint(1, 5)),
                photos=[parcel_photo(rng, order.reference)] if rng.random() < 0.7 else [],
                message=rng.choice(
                    ["", "", "Salamat po! Your parcel is on its way.", "Packed with care — enjoy!"]
                ),
            )
        if target == Order.Status.FULFILLED:
            actions.fulfill_order(
                order.pk, by=actor, remarks=rng.choice(["", "", "Received by the customer"])
            )
        if target == Order.Status.CANCELLED:
            actions.cancel_order(
                order.pk,
                by=actor,
                reason=rng.choice(["Customer changed their mind", "Out of stock", "Duplicate order"]),
            )
        # Pending orders are recent (a few late); finished ones are spread over the month.
        age_days = (
            rng.randint(0, 4)
            if target in (Order.Status.PENDING, Order.Status.AWAITING_PAYMENT)
            else rng.randint(2, 30)
        )
        move_back_in_time(order, datetime.timedelta(days=age_days, minutes=rng.randint(0, 600)))
        Notification.objects.filter(about_type="order", about_id=str(order.pk)).update(
            status=Notification.Status.SENT, sent_at=F("created_at")
        )
        # The vendors' digests of this order are history too.
        Notification.objects.filter(about_type="vendor", status=Notification.Status.PENDING).update(
            status=Notification.Status.SENT, sent_at=F("created_at")
        )


def move_back_in_time(order: Order, age: datetime.timedelta) -> None:
    """Shift every timestamp of a demo order by `age` (demo data only; real history never moves)."""
    days = datetime.timedelta(days=age.days)
    Order.objects.filter(pk=order.pk).update(
        placed_at=F("placed_at") - age,
        payment_verified_at=F("payment_verified_at") - age,
        dispatched_at=F("dispatched_at") - age,
        fulfilled_at=F("fulfilled_at") - age,
        cancelled_at=F("cancelled_at") - age,
        due_on=F("due_on") - days,
    )
    OrderEvent.objects.filter(order=order).update(created_at=F("created_at") - age)
    Fulfillment.objects.filter(order=order).update(
        created_at=F("created_at") - age,
        shipped_at=F("shipped_at") - age,
        delivered_at=F("delivered_at") - age,
        expected_on=F("expected_on") - days,
    )
    TrackingEvent.objects.filter(fulfillment__order=order).update(occurred_at=F("occurred_at") - age)
    Notification.objects.filter(about_type="order", about_id=str(order.pk)).update(
        created_at=F("created_at") - age
    )


def parcel_photo(rng: random.Random, label: str) -> SimpleUploadedFile:
    """A drawn parcel with its order reference, standing in for a phone photo."""
    image = Image.new(
        "RGB", (800, 600), (rng.randint(200, 240), rng.randint(190, 225), rng.randint(160, 200))
    )
    draw = ImageDraw.Draw(image)
    box = (160 + rng.randint(-30, 30), 150, 640 + rng.randint(-30, 30), 470)
    draw.rectangle(box, fill=(176, 131, 84), outline=(110, 80, 50), width=6)
    draw.rectangle((box[0], 290, box[2], 320), fill=(220, 200, 150))
    draw.rectangle((box[0] + 40, 180, box[0] + 260, 260), fill=(250, 250, 245), outline=(60, 60, 60), width=2)
    draw.text((box[0] + 55, 200), label, fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return SimpleUploadedFile(f"{label}.jpg", buffer.getvalue(), content_type="image/jpeg")
