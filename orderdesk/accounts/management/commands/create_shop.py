"""Open a shop and its owner from a script: the sign-up page's work for operators."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from orderdesk.accounts.actions import invitation_link, open_shop
from orderdesk.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create a shop and its owner, and print how the owner signs in. Without --password a new "
        "owner gets a link to choose one; an email that already has an account owns one more shop."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The shop's name, as customers know it.")
        parser.add_argument("--email", required=True, help="The owner's email address (their sign-in).")
        parser.add_argument("--owner-name", default="", help="The owner's first and last name.")
        parser.add_argument(
            "--password", default=None, help="The new owner's password (else they choose one by a link)."
        )

    def handle(self, *args, name: str, email: str, owner_name: str, password: str | None, **options):
        try:
            membership = open_shop(
                shop_name=name, owner_email=email, owner_password=password, owner_name=owner_name
            )
        except DomainError as refusal:
            raise CommandError(refusal.message) from refusal
        owner, shop = membership.user, membership.merchant
        self.stdout.write(self.style.SUCCESS(f"Shop “{shop.name}” is open, owned by {owner.email}."))
        sign_in = f"{settings.SITE_URL}{reverse('account_login')}"
        if password is not None:
            self.stdout.write(f"Sign in at {sign_in} as {owner.email} with the password given.")
        elif owner.has_usable_password():
            self.stdout.write(
                f"Sign in at {sign_in} as {owner.email} with the password they already use, "
                f"then choose “{shop.name}” under Acting for in the menu."
            )
        else:
            self.stdout.write(
                f"The owner chooses a password here (the link works once):\n{invitation_link(owner)}"
            )
            self.stdout.write(f"then signs in at {sign_in} as {owner.email}.")
