"""Which messages a merchant wants: switches that domain apps register, and the merchant's
choices stored as rows (topic × channel × audience; no row means on)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection

from .models import Notification, NotificationPreference
from .webhooks import PublishBatch, current_publish_batch

CHANNEL_VERBS = {Notification.Channel.SMS: "SMS", Notification.Channel.EMAIL: "Email"}
AUDIENCE_OBJECTS = {
    Notification.Audience.MERCHANT: ("me", "Tell me by"),
    Notification.Audience.CUSTOMER: ("the customer", "Tell the customer by"),
    Notification.Audience.VENDOR: ("the vendor", "Tell the vendor by"),
}


@dataclass(frozen=True)
class Switch:
    """One choice on a page: one topic to one audience on one channel."""

    name: str
    topic: str
    audience: str
    channel: str
    label: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.topic, self.channel, self.audience)


@dataclass(frozen=True)
class SwitchGroup:
    """One topic and who hears of it, with a switch per channel: what a page shows as one row."""

    when: str
    audience: str
    switches: tuple[Switch, ...]

    @property
    def audience_label(self) -> str:
        return AUDIENCE_OBJECTS[self.audience][1]


_groups: list[SwitchGroup] = []


def register_switches(
    topic: str,
    *,
    audience: str,
    when: str,
    name: str,
    channels: tuple[str, ...] = (Notification.Channel.SMS, Notification.Channel.EMAIL),
) -> SwitchGroup:
    """Offer the merchant a switch per channel for this topic (call from an AppConfig.ready).

    Switch names read "<audience>_<channel>_on_<name>"; labels "SMS me when …".
    Registering the same topic and audience again replaces the group.
    """
    who = AUDIENCE_OBJECTS[audience][0]
    group = SwitchGroup(
        when=when,
        audience=audience,
        switches=tuple(
            Switch(
                name=f"{audience}_{channel}_on_{name}",
                topic=topic,
                audience=audience,
                channel=channel,
                label=f"{CHANNEL_VERBS[channel]} {who} {when[0].lower()}{when[1:]}",
            )
            for channel in channels
        ),
    )
    _groups[:] = [
        g for g in _groups if not (g.audience == audience and any(s.topic == topic for s in g.switches))
    ]
    _groups.append(group)
    return group


def switch_groups() -> list[SwitchGroup]:
    """Every registered group, in the order the apps registered them."""
    return list(_groups)


def switches() -> dict[str, Switch]:
    """Every registered switch by name."""
    return {switch.name: switch for group in _groups for switch in group.switches}


@dataclass(frozen=True)
class Preferences:
    """A merchant's choices: every message is on unless a row turned it off."""

    off: frozenset[tuple[str, str, str]]

    def allows(self, topic: str, channel: str, audience: str) -> bool:
        return (topic, channel, audience) not in self.off

    def is_on(self, switch_name: str) -> bool:
        return switches()[switch_name].key not in self.off


def preferences_for(merchant) -> Preferences:
    """The merchant's choices (one query); all on until they change one.

    Read on every paid order: plain SQL, which skips the ORM's compiling of the query (most of
    its cost here). Inside an order action (publishing_once) whose webhook endpoints were
    already read, the switches came in the same statement (remember_switched_off): no query."""
    batch = current_publish_batch()
    if batch is not None:
        known = batch.remembered.get(_REMEMBERED, {}).get(merchant.pk)
        if known is not None:
            return Preferences(off=known)
    with connection.cursor() as cursor:
        cursor.execute(_switched_off_sql(), [merchant.pk])
        return Preferences(off=frozenset(tuple(row) for row in cursor.fetchall()))


@functools.cache
def _switched_off_sql() -> str:
    meta = NotificationPreference._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("topic", "channel", "audience"))
    return (
        f"SELECT {columns} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field('merchant').column)} = %s AND NOT {quote(meta.get_field('enabled').column)}"
    )


_REMEMBERED = "switched_off"


def remember_switched_off(batch: PublishBatch, merchant_id: int, rows) -> None:
    """What a merchant switched off, as (topic, channel, audience) rows read in the transaction of
    `batch` with something else (the webhook endpoints): preferences_for then reads nothing."""
    batch.remembered.setdefault(_REMEMBERED, {})[merchant_id] = frozenset(tuple(row) for row in rows)


def switched_off_columns() -> tuple[str, str, str, str]:
    """The table, its merchant and enabled columns, and its topic, channel, audience columns
    joined, quoted: for a statement that reads the switches beside something else."""
    meta = NotificationPreference._meta
    quote = connection.ops.quote_name
    return (
        quote(meta.db_table),
        quote(meta.get_field("merchant").column),
        quote(meta.get_field("enabled").column),
        ", ".join(quote(meta.get_field(name).column) for name in ("topic", "channel", "audience")),
    )
