"""Operators' door to the reports' roll-ups.

manage.py reports rollup [--full] [--merchant ID]   rebuild the days touched since the last run (or all)
manage.py reports check [--merchant ID]             compare the roll-ups with a recount of the orders
"""

from django.core.management.base import BaseCommand, CommandError

from orderdesk.accounts.models import Merchant
from orderdesk.reports.rollups import recount_differences, refresh_order_figures


class Command(BaseCommand):
    help = "Rebuild the reports' daily roll-ups, or check them against a recount of the orders."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rollup", "check"])
        parser.add_argument("--merchant", type=int, help="One merchant's id (default: every merchant).")
        parser.add_argument(
            "--full", action="store_true", help="Rebuild every day, not only the touched ones."
        )

    def handle(self, *args, action, merchant, full, **options):
        merchants = Merchant.objects.filter(pk=merchant) if merchant else Merchant.objects.order_by("pk")
        if merchant and not merchants.exists():
            raise CommandError(f"No merchant {merchant}.")
        differing = 0
        for one in merchants:
            if action == "rollup":
                outcome = refresh_order_figures(one, full=full)
                self.stdout.write(
                    f"{one.name}: {outcome.days_rebuilt} day(s) rebuilt{' (all)' if outcome.full else ''}"
                )
                continue
            differences = recount_differences(one)
            differing += bool(differences)
            self.stdout.write(
                f"{one.name}: {'agrees' if not differences else f'{len(differences)} difference(s)'}"
            )
            for line in differences[:20]:
                self.stdout.write(f"  {line}")
        if differing:
            raise CommandError(f"{differing} merchant(s) differ from a recount; run `reports rollup --full`.")
