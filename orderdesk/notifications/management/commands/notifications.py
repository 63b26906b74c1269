"""Operate the notification outbox: `list`, `retry`, `sweep`.

manage.py notifications list [--status failed] [--limit 50]
manage.py notifications retry [--id 42 ...]     failed ones (all, or these), sent now
manage.py notifications sweep                   send what is due (cron this without Celery beat)
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orderdesk.background import MESSAGES, background_jobs
from orderdesk.notifications.actions import resend_failed_notifications
from orderdesk.notifications.delivery import deliver_due_notifications, deliver_notification
from orderdesk.notifications.models import Notification
from orderdesk.notifications.queries import notifications_in_outbox


class Command(BaseCommand):
    help = "List, retry and sweep the notification outbox."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{list,retry,sweep}")
        listing = commands.add_parser("list", help="Show messages, newest first.")
        listing.add_argument("--status", choices=Notification.Status.values)
        listing.add_argument("--limit", type=int, default=50)
        retry = commands.add_parser("retry", help="Send failed messages again (all, or --id).")
        retry.add_argument("--id", dest="ids", type=int, action="append", metavar="ID")
        commands.add_parser("sweep", help="Send every message that is due now.")

    def handle(self, *args, subcommand, **options):
        getattr(self, f"_{subcommand}")(**options)

    def _list(self, *, status=None, limit=50, **options):
        rows = notifications_in_outbox(status)[:limit]
        for n in rows:
            about = f"{n.about_type} {n.about_id}" if n.about_type else "-"
            line = (
                f"{n.pk:>6}  {n.status:<8} {n.attempts:>2}x  {n.channel:<5} {n.recipient:<30} "
                f"{about:<14} {n.topic:<24} {n.created_at:%Y-%m-%d %H:%M}"
            )
            self.stdout.write(line)
            if n.last_error and n.status != Notification.Status.SENT:
                self.stdout.write(f"        last error: {n.last_error}")
        if not rows:
            self.stdout.write("No messages" + (f" with status {status}." if status else "."))

    def _retry(self, *, ids=None, **options):
        if ids:
            known = set(Notification.objects.filter(pk__in=ids).values_list("pk", "status"))
            statuses = dict(known)
            missing = [i for i in ids if i not in statuses]
            not_failed = [f"{i} ({statuses[i]})" for i in ids if i in statuses and statuses[i] != "failed"]
            if missing or not_failed:
                problems = []
                if missing:
                    problems.append(f"no message with id {', '.join(map(str, missing))}")
                if not_failed:
                    problems.append(f"only failed messages are retried, not {', '.join(not_failed)}")
                raise CommandError("Nothing retried: " + "; ".join(problems) + ".")
        resent = resend_failed_notifications(ids, label="Operator (manage.py notifications retry)")
        resent_ids = [n.pk for n in resent]
        for notification_id in resent_ids:
            # Usually the resend's after-commit hook has delivered it already and this finds
            # nothing to do; with a Celery broker, this sends it now instead of waiting for a worker.
            deliver_notification(notification_id)
        # Without Celery the resend handed them to the delivery thread too: count after it is done.
        background_jobs.wait_until_idle(
            timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS * max(len(resent_ids), 1), lanes=[MESSAGES]
        )
        sent = Notification.objects.filter(pk__in=resent_ids, status=Notification.Status.SENT).count()
        self.stdout.write(f"Retried {len(resent)} failed message(s): {sent} sent now.")

    def _sweep(self, **options):
        outcomes = deliver_due_notifications()
        if not outcomes:
            self.stdout.write("Nothing was due.")
            return
        described = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.stdout.write(f"Swept: {described}.")
