"""A store's order as Orderdesk needs it, whichever store it came from."""

from __future__ import annotations

import datetime
import hashlib
import json
from contextlib import suppress
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation

from .errors import MalformedStoreOrder

CENT = Decimal("0.01")


@dataclass(frozen=True)
class IncomingLine:
    sku: str
    title: str
    variant_title: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class IncomingOrder:
    """One order as the store describes it, before any of Orderdesk's checks."""

    class Standing:
        PAID = "paid"  # paid and not yet fulfilled: belongs in Order Tracking
        UNPAID = "unpaid"  # not paid yet: enters when it is
        FULFILLED = "fulfilled"  # fulfilled in the store before it reached Orderdesk
        CANCELLED = "cancelled"

    external_id: str
    standing: str
    currency: str
    customer_name: str
    customer_phone: str
    customer_email: str
    shipping_address: str
    lines: tuple[IncomingLine, ...]
    payment_method: str
    shipping_option: str = ""
    shipping_fee: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    note: str = ""
    placed_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    extra: dict = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """A digest of everything that, when changed in the store, changes the order here.
        Made once per order (the order is frozen), so a read-ahead thread can make it early."""
        made = self.__dict__.get("_fingerprint")
        if made is None:
            made = self._digest()
            # Not functools.cached_property: on Python 3.11 it takes one lock for every order.
            object.__setattr__(self, "_fingerprint", made)
        return made

    def work_out_ahead(self) -> None:
        """What taking the order in works out without the database, for a reading thread to do
        while the batch before is written (the writing thread has the database to wait for):
        the digest, which the order keeps, and a paid order's phone in E.164, which
        normalized_phone remembers. A phone it refuses is left to the writing thread to refuse."""
        from orderdesk.orders.actions import normalized_phone

        self.fingerprint  # noqa: B018 - made now, kept by the order
        if self.standing == self.Standing.PAID and self.customer_phone:
            with suppress(ValueError):
                normalized_phone(self.customer_phone)

    def _digest(self) -> str:
        # What asdict() gives, without its deep copies (a backfill digests every order it reads).
        content = {name: getattr(self, name) for name in _ORDER_FINGERPRINTED}
        content["lines"] = [{name: getattr(line, name) for name in _LINE_FIELDS} for line in self.lines]
        # Cancelled (True) or not (False), as ever; fulfilled in the store differs from both, so
        # it reaches the upsert once (flagged there, never applied: fulfilled_in_store.py).
        content["standing"] = (
            "fulfilled"
            if self.standing == self.Standing.FULFILLED
            else self.standing == self.Standing.CANCELLED
        )
        encoded = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


_NOT_IN_FINGERPRINT = {"placed_at", "updated_at", "extra", "payment_method", "currency"}
_ORDER_FINGERPRINTED = [f.name for f in fields(IncomingOrder) if f.name not in _NOT_IN_FINGERPRINT]
_LINE_FIELDS = [f.name for f in fields(IncomingLine)]


def amount(value, what: str) -> Decimal:
    """A store's amount (text, or a number parsed exactly) as Decimal cents."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, float):
        value = repr(value)
    try:
        parsed = Decimal(str(value))
    except (InvalidOperation, ValueError) as refusal:
        raise MalformedStoreOrder(f"The {what} “{value}” is not an amount.") from refusal
    if not parsed.is_finite():
        raise MalformedStoreOrder(f"The {what} “{value}” is not an amount.")
    return parsed.quantize(CENT)


def quantity(value, what: str) -> int:
    if type(value) is str and value.isascii() and value.isdigit():
        # Plain digits (nearly every quantity of a file): the number the Decimal below gives.
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise MalformedStoreOrder(f"The quantity of {what} is missing.")
    try:
        number = Decimal(str(value))
    except InvalidOperation as refusal:
        raise MalformedStoreOrder(f"The quantity of {what} “{value}” is not a number.") from refusal
    if not number.is_finite() or number != number.to_integral_value():
        raise MalformedStoreOrder(f"The quantity of {what} “{value}” is not a whole number.")
    return int(number)


def moment(value) -> datetime.datetime | None:
    """An ISO 8601 time from the store (UTC when it names no zone)."""
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as refusal:
        raise MalformedStoreOrder(f"“{value}” is not a date and time.") from refusal
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def text(value) -> str:
    return "" if value is None else str(value).strip()


def address_text(*parts) -> str:
    return ", ".join(part for part in (text(p) for p in parts) if part)
