"""Phone numbers are stored in E.164; a number with an extension is refused, not cut short."""

import pytest

from orderdesk.customers.phones import normalize_phone

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
