"""Demo after-sales: orders shipped partly by a source agent, with cases in every status.

seed_demo calls it when the app is installed; on its own it works on the demo merchant (or
`--owner EMAIL`'s shop). Cases go through the domain functions; their messages are marked
sent (the demo's outbox is history, not mail to send).
"""

import datetime
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership, User
from orderdesk.aftersales import actions
from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.fulfillment.actions import ShipmentLine, create_shipment
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions as order_actions
from orderdesk.orders.actions import CustomerDetails, LineInput, NewOrder
from orderdesk.orders.models import Order
from orderdesk.vendors.models import Vendor

DEMO_EMAIL = "demo@orderdesk.local"
VENDOR_EMAIL = "agent@orderdesk.local"
CUSTOMERS = [
    ("Bea Navarro", "0917 555 0141", "23 Maginhawa St, Teachers Village, Quezon City"),
    ("Paolo Lim", "0917 555 0142", "88 Gorordo Ave, Lahug, Cebu City"),
    ("Grace Torres", "0917 555 0143", "9 Session Rd, Baguio City"),
    ("Carlo Ramos", "0917 555 0144", "210 Shaw Blvd, Mandaluyong City"),
    ("Joy Castillo", "0917 555 0145", "15 Rizal Ave, Poblacion, Davao City"),
]


class Command(BaseCommand):
    help = "Add demo after-sales cases in every status (orders shipped partly by a source agent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--owner", default=DEMO_EMAIL, help="The shop owner's email (default: the demo's)"
        )

    def handle(self, *args, owner: str, **options):
        try:
            membership = Membership.objects.select_related("merchant", "user").get(
                user__email=owner, role=Membership.Role.OWNER
            )
        except Membership.DoesNotExist as missing:
            raise CommandError(f"No shop owner {owner}; run seed_demo first.") from missing
        merchant = membership.merchant
        if AfterSalesCase.objects.for_merchant(merchant).exists():
            self.stdout.write("The shop already has after-sales cases; none added.")
            return
        owner_actor = Actor.for_membership(membership)
        vendor, _ = Vendor.objects.get_or_create(
            merchant=merchant,
            name="Cebu Weavers Supply",
            defaults={"contact_email": "orders@cebuweavers.example", "contact_phone": "+639175550199"},
        )
        agent = self._vendor_user(merchant, vendor)
        agent_actor = Actor.for_membership(agent)

        steps = [
            ("product_broken", "resend", "The vase arrived cracked along the rim.", []),
            ("logistics_issue", "refund", "The courier left the parcel in the rain.", ["accept"]),
            ("wrong_item", "resend", "Blue runner sent instead of the green one.", ["accept", "ship"]),
            ("not_as_described", "partial_refund", "The colour is much darker than the photos.", ["reject"]),
            (
                "missing_item",
                "refund",
                "Only one of two vases was in the box.",
                ["accept", "refund", "resolve"],
            ),
            ("other", "other", "The customer found it after all.", ["close"]),
        ]
        for number, (type, mode, text, road) in enumerate(steps):
            with transaction.atomic():
                order = self._shipped_order(owner_actor, vendor, number)
                (case,) = actions.open_cases(
                    order.pk,
                    by=owner_actor,
                    type=type,
                    mode=mode,
                    lines=[actions.CaseLineInput(order.lines.order_by("pk").first().pk, 1)],
                    text=text,
                )
                if number == 0:
                    actions.add_case_message(
                        case.pk, by=agent_actor, text="Can you send a photo of the box as well?"
                    )
                for step in road:
                    if step == "accept":
                        actions.accept_case(case.pk, by=agent_actor, resend_cost="0")
                    elif step == "ship":
                        order_actions.move_order_shipment(
                            AfterSalesCase.objects.get(pk=case.pk).resend_shipment_id,
                            by=agent_actor,
                            to="in_transit",
                            carrier="LBC",
                            delivery_reference=f"LBC-R{1000 + number}",
                        )
                    elif step == "reject":
                        actions.reject_case(
                            case.pk, by=agent_actor, reason="Colour matches the sample you approved."
                        )
                    elif step == "refund":
                        actions.record_refund(case.pk, by=owner_actor, amount="850.00")
                    elif step == "resolve":
                        actions.resolve_case(case.pk, by=owner_actor)
                    elif step == "close":
                        actions.close_case(case.pk, by=owner_actor, note="Found by the customer's neighbour.")
                age = datetime.timedelta(days=len(steps) - number)
                AfterSalesCase.objects.filter(pk=case.pk).update(created_at=F("created_at") - age)
                Notification.objects.filter(about_type="after_sales_case", about_id=str(case.pk)).update(
                    status=Notification.Status.SENT, sent_at=F("created_at")
                )
                Notification.objects.filter(about_type="order", about_id=str(order.pk)).update(
                    status=Notification.Status.SENT, sent_at=F("created_at")
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(steps)} after-sales cases in every status; the source agent signs in as {VENDOR_EMAIL}."
            )
        )

    def _vendor_user(self, merchant, vendor) -> Membership:
        user = User.objects.filter(email=VENDOR_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                VENDOR_EMAIL, "orderdesk-demo", first_name="Lito", last_name="Abad"
            )
        membership, _ = Membership.objects.get_or_create(
            user=user, merchant=merchant, defaults={"role": Membership.Role.VENDOR_USER, "vendor": vendor}
        )
        membership.merchant = merchant
        return membership

    def _shipped_order(self, by: Actor, vendor: Vendor, number: int) -> Order:
        name, phone, address = CUSTOMERS[number % len(CUSTOMERS)]
        order = order_actions.record_order(
            NewOrder(
                customer=CustomerDetails(name=name, phone=phone, address=address),
                lines=[
                    LineInput(
                        title="Abaca table runner", sku="AB-RUN", quantity=2, unit_price=Decimal("850.00")
                    ),
                    LineInput(title="Clay vase", sku="CL-VASE", quantity=1, unit_price=Decimal("640.00")),
                ],
                payment_method=Order.PaymentMethod.GCASH,
                shipping_option="J&T Express",
                shipping_fee=Decimal("120.00"),
            ),
            by=by,
            payment_confirmed=True,
            notify=False,
        )
        runner, _vase = order.lines.order_by("pk")
        shipment = create_shipment(
            order.pk,
            by=by,
            vendor_id=vendor.pk,
            lines=[ShipmentLine(runner.pk, 2, unit_cost=Decimal("420.00"), shipping_cost=Decimal("60.00"))],
        )
        order_actions.move_order_shipment(
            shipment.pk, by=by, to="in_transit", carrier="LBC", delivery_reference=f"LBC-{2000 + number}"
        )
        order_actions.dispatch_order(
            order.pk,
            by=by,
            delivery_reference=f"JT-{3000 + number}",
            expected_on=timezone.localdate(timezone=by.merchant.zone) + datetime.timedelta(days=2),
        )
        return order
