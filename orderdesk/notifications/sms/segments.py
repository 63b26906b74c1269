"""How many SMS segments a text takes, and cutting a text to fit in a few of them.

A text is sent in GSM-7 when every character is in the GSM 03.38 alphabet (the
extension table's characters cost two septets: an escape and the character);
otherwise in UCS-2, where every UTF-16 code unit counts (an emoji is two).
One segment holds 160 septets or 70 units; a text that needs more is split
into parts of 153 septets or 67 units (the rest is the concatenation header),
and phones never split an escape pair or a surrogate pair across two parts.
"""

from __future__ import annotations

from typing import NamedTuple

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (units in a single segment, units per part of a longer message)
CAPACITY = {GSM7: (160, 153), UCS2: (70, 67)}

# Marks where a text was cut; plain dots are GSM-7, "…" would force UCS-2.
CUT_MARK = "..."


class SmsSize(NamedTuple):
    encoding: str
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _unit_costs(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def sms_size(text: str) -> SmsSize:
    """The encoding a phone would pick for the text, its length in units, and its segments."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    costs = _unit_costs(text, encoding)
    single, per_part = CAPACITY[encoding]
    units = sum(costs)
    if units <= single:
        return SmsSize(encoding, units, 1)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            segments += 1
            used = 0
        used += cost
    return SmsSize(encoding, units, segments)


def count_segments(text: str) -> int:
    return sms_size(text).segments


def fit_sms(text: str, *, keep: str = "", max_segments: int = 2) -> str:
    """`text`, then a space and `keep`, in at most `max_segments` segments.

    `keep` (a link, say) is never cut. When the whole does not fit, `text` is cut
    at a word boundary where one is near, and marked with "...". When not even
    `keep` fits beside a cut text, `keep` alone is returned.
    """
    text = " ".join(text.split())

    def joined(head: str) -> str:
        return f"{head} {keep}" if head and keep else head or keep

    whole = joined(text)
    if count_segments(whole) <= max_segments:
        return whole

    def fits(length: int) -> bool:
        return count_segments(joined(text[:length].rstrip() + CUT_MARK)) <= max_segments

    # Longer prefixes never take fewer segments, so the longest that fits is found by bisection.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    if low == 0 or not fits(low):
        return keep
    head = text[:low]
    if low < len(text) and not text[low].isspace():
        # Mid-word: go back to the last space unless that throws away most of the text.
        space = head.rfind(" ")
        if space > low * 0.6:
            head = head[:space]
    head = head.rstrip(" ,;:-")
    return joined(head + CUT_MARK) if head else keep
