"""Phone numbers are stored in E.164; a number with an extension is refused, not cut short."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderdesk.customers.phones import (
    DEFAULT_PHONE_REGION,
    _already_e164,
    _normalized_by_parse,
    normalize_phone,
)

EXTENSION_REFUSED = "has an extension (“12”); SMS cannot reach an extension. Enter the number without it."


@pytest.mark.parametrize(
    "raw",
    ["+63 2 8123 4567 ext. 12", "(02) 8123 4567 ext 12", "+63 2 8123 4567 x12", "028-123-4567;ext=12"],
)
def test_a_number_with_an_extension_is_refused_with_a_clear_message(raw):
    with pytest.raises(ValueError) as refusal:
        normalize_phone(raw)

    assert EXTENSION_REFUSED in str(refusal.value)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0917 123 4567", "+639171234567"),
        ("+63 917-123-4567", "+639171234567"),
        ("(02) 8123 4567", "+63281234567"),
    ],
)
def test_a_number_without_an_extension_is_stored_in_e164(raw, stored):
    assert normalize_phone(raw) == stored


# A number already in E.164 skips phonenumbers' parse (_already_e164); these prove that
# shortcut answers exactly as the parse does, on every region's example numbers, on them
# with a digit changed, added or dropped, and on any "+digits".
def _example_numbers() -> list[str]:
    examples = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in range(12):  # every PhoneNumberType but UNKNOWN
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                examples.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            examples.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(examples)


EXAMPLE_NUMBERS = _example_numbers()
COUNTRY_CODES = sorted(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _as_the_parse_answers(text: str) -> str:
    try:
        return _normalized_by_parse(text, DEFAULT_PHONE_REGION)
    except ValueError as refusal:
        return f"refused: {refusal}"


def _as_normalize_phone_answers(text: str) -> str:
    try:
        return normalize_phone(text)
    except ValueError as refusal:
        return f"refused: {refusal}"


def test_every_regions_example_number_in_e164_is_normalized_as_the_parse_does():
    for text in EXAMPLE_NUMBERS:
        assert _as_normalize_phone_answers(text) == _as_the_parse_answers(text), text


@st.composite
def _near_e164(draw) -> str:
    digits = draw(st.sampled_from(EXAMPLE_NUMBERS))[1:]
    change = draw(st.sampled_from(["none", "replace", "insert", "drop", "country", "random"]))
    position = draw(st.integers(min_value=0, max_value=len(digits) - 1))
    digit = draw(st.sampled_from("0123456789"))
    if change == "replace":
        digits = digits[:position] + digit + digits[position + 1 :]
    elif change == "insert":
        digits = digits[:position] + digit + digits[position:]
    elif change == "drop":
        digits = digits[:position] + digits[position + 1 :]
    elif change == "country":
        digits = draw(st.sampled_from(COUNTRY_CODES)) + draw(st.text("0123456789", max_size=18))
    elif change == "random":
        digits = draw(st.text("0123456789", max_size=22))
    return "+" + digits


@settings(max_examples=1500, deadline=None)
@given(text=_near_e164())
def test_a_number_written_in_e164_or_nearly_is_normalized_as_the_parse_does(text):
    assert _as_normalize_phone_answers(text) == _as_the_parse_answers(text)


@pytest.mark.parametrize("number", ["+639171234567", "+639190001234", "+63281234567", "+14155552671"])
def test_a_valid_number_in_e164_takes_the_shortcut(number):
    assert _already_e164(number)
    assert _normalized_by_parse(number, DEFAULT_PHONE_REGION) == number


@pytest.mark.parametrize("number", ["+6309171234567", "+390612345678", "+63917123456", "+0639171234567"])
def test_a_number_the_parse_would_change_or_refuse_does_not_take_the_shortcut(number):
    assert not _already_e164(number)
