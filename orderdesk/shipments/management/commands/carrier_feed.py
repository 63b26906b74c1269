"""manage.py carrier_feed --owner EMAIL [--shop NAME] [--secret S] [--new-address]: set a shop's
AfterShip webhook secret and print the address to paste into AfterShip."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from orderdesk.accounts.actors import Actor, NotAMember
from orderdesk.accounts.models import Membership, User
from orderdesk.errors import DomainError

from ...actions import feed_url, set_carrier_feed_secret


class Command(BaseCommand):
    help = "Set a shop's carrier-tracking (AfterShip) webhook secret and print its webhook address."

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="The shop owner's email.")
        parser.add_argument("--shop", default="", help="The shop's name, when the owner has several.")
        parser.add_argument(
            "--secret", default=None, help="AfterShip's webhook secret (asked for when left out)."
        )
        parser.add_argument("--new-address", action="store_true", help="Give the feed a new address.")

    def handle(self, *args, owner, shop, secret, new_address, **options):
        user = User.objects.filter(email__iexact=owner).first()
        if user is None:
            raise CommandError(f"No user has the email {owner}.")
        memberships = Membership.objects.filter(user=user, role=Membership.Role.OWNER).select_related(
            "merchant"
        )
        if shop:
            memberships = memberships.filter(merchant__name=shop)
        found = list(memberships[:2])
        if len(found) != 1:
            raise CommandError("Name the shop with --shop: this owner has several (or none by that name).")
        try:
            by = Actor.for_membership(found[0])
            feed = set_carrier_feed_secret(
                secret if secret is not None else getpass.getpass("AfterShip webhook secret: "),
                by=by,
                new_address=new_address,
            )
        except (DomainError, NotAMember) as refusal:
            raise CommandError(refusal.message) from refusal
        self.stdout.write(
            f"{found[0].merchant.name}: paste this address into AfterShip → Settings → Webhooks:"
        )
        self.stdout.write(feed_url(feed))
