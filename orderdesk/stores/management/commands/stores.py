"""Operate store connections: `add`, `list`, `test`, `sync`.

manage.py stores add --owner EMAIL --channel shopify --name NAME --url lakbay.myshopify.com
                     [--access-token T] [--consumer-key K] [--consumer-secret S] [--webhook-secret W]
                     [--api-base-url URL]      secrets left out are asked for without echo
manage.py stores list [--owner EMAIL]           every store with its state and webhook URL
manage.py stores test ID                        ask the store who it is with the saved credentials
manage.py stores sync ID [--backfill] | --all   take orders in, with a progress bar
manage.py stores poll                           poll the stores due (cron it every minute without Celery beat)
"""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.errors import DomainError
from orderdesk.stores import actions
from orderdesk.stores.models import Store, SyncRun
from orderdesk.stores.queries import webhook_url
from orderdesk.stores.sync import poll_all_stores, sync_store

SECRETS = {
    Store.Channel.SHOPIFY: [
        ("access_token", "Admin API access token"),
        ("webhook_secret", "Webhook signing secret"),
    ],
    Store.Channel.WOOCOMMERCE: [
        ("consumer_key", "Consumer key"),
        ("consumer_secret", "Consumer secret"),
        ("webhook_secret", "Webhook secret"),
    ],
    Store.Channel.CSV: [],
}


class Command(BaseCommand):
    help = "Add, list, test and sync store connections."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{add,list,test,sync,poll}"
        )
        add = commands.add_parser("add", help="Connect a store for the shop this owner runs.")
        add.add_argument(
            "--owner", required=True, help="Email of the shop's owner (the command acts as them)."
        )
        add.add_argument("--channel", required=True, choices=list(SECRETS))
        add.add_argument("--name", required=True)
        add.add_argument("--url", default="", help="Shopify shop domain, or the WooCommerce site address.")
        add.add_argument("--api-base-url", default="")
        for option, _label in SECRETS[Store.Channel.WOOCOMMERCE] + SECRETS[Store.Channel.SHOPIFY][:1]:
            add.add_argument(f"--{option.replace('_', '-')}", dest=option, default=None)
        listing = commands.add_parser("list", help="Every store, its state and webhook URL.")
        listing.add_argument("--owner", help="Only this owner's shop.")
        test = commands.add_parser("test", help="Check a store's saved credentials.")
        test.add_argument("store_id", type=int)
        sync = commands.add_parser("sync", help="Take a store's orders in now.")
        sync.add_argument("store_id", type=int, nargs="?")
        sync.add_argument(
            "--backfill",
            action="store_true",
            help="Paid, unfulfilled orders of the last STORE_BACKFILL_DAYS days.",
        )
        sync.add_argument("--all", action="store_true", help="Poll every active connected store.")
        commands.add_parser(
            "poll",
            help="Poll the stores not synced in the last STORE_POLL_MINUTES, and take in webhook "
            "deliveries left unprocessed (run it every minute when there is no Celery beat).",
        )

    def handle(self, *args, subcommand, **options):
        try:
            getattr(self, f"_{subcommand}")(**options)
        except DomainError as refusal:
            raise CommandError(refusal.message) from refusal

    def _owner(self, email: str) -> Actor:
        membership = (
            Membership.objects.select_related("user", "merchant")
            .filter(user__email__iexact=email, role=Membership.Role.OWNER)
            .first()
        )
        if membership is None:
            raise CommandError(f"No shop owner with the email {email}.")
        return Actor.for_membership(membership)

    def _add(self, *, owner, channel, name, url, api_base_url, **options):
        by = self._owner(owner)
        secrets = {}
        for option, label in SECRETS[channel]:
            value = options.get(option)
            if value is None:
                if not sys.stdin.isatty():
                    raise CommandError(f"Give --{option.replace('_', '-')} ({label}).")
                value = getpass.getpass(f"{label}: ")
            secrets[option] = value
        store = actions.add_store(
            actions.StoreDetails(channel=channel, name=name, url=url, api_base_url=api_base_url, **secrets),
            by=by,
        )
        self.stdout.write(f"Added store {store.pk}: {store.name} ({store.get_channel_display()}).")
        if url := webhook_url(store):
            self.stdout.write(f"Webhook URL: {url}")

    def _list(self, *, owner=None, **options):
        stores = (
            Store.objects.select_related("merchant")
            .filter(removed_at=None)
            .order_by("merchant__name", "name")
        )
        if owner:
            stores = stores.filter(merchant=self._owner(owner).merchant)
        for store in stores:
            state = store.get_connection_state_display() if store.is_connected_store else "-"
            synced = f"{store.last_synced_at:%Y-%m-%d %H:%M}" if store.last_synced_at else "never"
            self.stdout.write(
                f"{store.pk:>5}  {store.merchant.name:<20} {store.name:<24} {store.get_channel_display():<12} "
                f"{'active' if store.is_active else 'paused':<7} {state:<32} synced {synced}"
            )
            if url := webhook_url(store):
                self.stdout.write(f"       webhook URL: {url}")
        if not stores:
            self.stdout.write("No stores.")

    def _store(self, store_id) -> Store:
        store = Store.objects.select_related("merchant").filter(pk=store_id, removed_at=None).first()
        if store is None:
            raise CommandError(f"No store with id {store_id}.")
        return store

    def _owner_of(self, store: Store) -> Actor:
        membership = (
            Membership.objects.select_related("user")
            .filter(merchant=store.merchant, role=Membership.Role.OWNER)
            .order_by("pk")
            .first()
        )
        if membership is None:
            raise CommandError(f"{store.merchant.name} has no owner to act as.")
        return Actor.for_membership(membership)

    def _test(self, *, store_id, **options):
        store = self._store(store_id)
        self.stdout.write(actions.check_store_connection(store.pk, by=self._owner_of(store)))

    def _sync(self, *, store_id=None, backfill=False, all=False, **options):
        if all == (store_id is not None):
            raise CommandError("Give one store id, or --all.")
        if all:
            ids = list(
                Store.objects.filter(
                    channel__in=[Store.Channel.SHOPIFY, Store.Channel.WOOCOMMERCE],
                    is_active=True,
                    removed_at=None,
                ).values_list("pk", flat=True)
            )
        else:
            ids = [self._store(store_id).pk]
        failed = False
        for pk in ids:
            store = Store.objects.get(pk=pk)
            kind = SyncRun.Kind.BACKFILL if backfill else SyncRun.Kind.POLL
            run = sync_store(pk, kind=kind, progress=lambda run, name=store.name: self._progress(name, run))
            self.stdout.write("")
            if run.error:
                failed = True
                self.stderr.write(f"{store.name}: {run.error}")
            for failure in run.failures:
                where = f"order {failure['external_id']}: " if failure["external_id"] else ""
                self.stderr.write(f"  {where}{failure['reason']}")
        if failed:
            raise CommandError("Some stores could not be synced.")

    def _poll(self, **options):
        polled = poll_all_stores(only_due=True)
        if options.get("verbosity", 1) > 1:
            self.stdout.write(f"Polled {polled} store{'s' if polled != 1 else ''}.")

    def _progress(self, name: str, run: SyncRun) -> None:
        self.stdout.write(f"\r{progress_line(name, run)}", ending="")
        self.stdout.flush()


BAR_WIDTH = 24


def progress_line(name: str, run: SyncRun) -> str:
    """One line, rewritten in place: a bar when the store said how many orders there are."""
    counts = (
        f"{run.new_count} new, {run.updated_count} updated, {run.unchanged_count} unchanged, "
        f"{run.failed_count} failed"
    )
    if run.percent_done is None:
        return f"{name}: {run.seen_count} orders · {counts}"
    filled = BAR_WIDTH * run.percent_done // 100
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return f"{name}: [{bar}] {run.percent_done:>3}% {run.seen_count}/{run.expected_count} · {counts}"
