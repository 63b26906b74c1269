"""Phone numbers are stored in E.164 (+639171234567)."""

import phonenumbers

# Numbers written without a country code are read as Philippine numbers,
# the home market of the embedded default (Asia/Manila, PHP).
DEFAULT_PHONE_REGION = "PH"


def normalize_phone(raw: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """The number in E.164; ValueError with a readable message when it is not a valid number."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("Enter a phone number.")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as refusal:
        raise ValueError(f"“{text}” is not a phone number.") from refusal
    if parsed.extension:
        # Dropping it would store a number that reaches the switchboard, not the person.
        raise ValueError(
            f"“{text}” has an extension (“{parsed.extension}”); SMS cannot reach an extension. "
            "Enter the number without it."
        )
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"“{text}” is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_field(instance, field_name: str) -> None:
    """For a model's clean(): the field's number in E.164, or a ValidationError on that field."""
    from django.core.exceptions import ValidationError

    value = getattr(instance, field_name)
    if not value:
        return
    try:
        setattr(instance, field_name, normalize_phone(value))
    except ValueError as refusal:
        raise ValidationError({field_name: str(refusal)}) from refusal
