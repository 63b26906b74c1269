"""Phone numbers are stored in E.164 (+639171234567)."""

import re

import phonenumbers

# Numbers written without a country code are read as Philippine numbers,
# the home market of the embedded default (Asia/Manila, PHP).
DEFAULT_PHONE_REGION = "PH"


def normalize_phone(raw: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """The number in E.164; ValueError with a readable message when it is not a valid number."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("Enter a phone number.")
    if _already_e164(text):
        return text
    return _normalized_by_parse(text, region)


def _normalized_by_parse(text: str, region: str) -> str:
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


# "+", a country code and a national number: at most 3 + 17 digits, no leading zero.
_E164_SHAPE = re.compile(r"\+[1-9][0-9]{2,19}")
_NATIONAL_PREFIXES: dict[str, re.Pattern] = {}


def _already_e164(text: str) -> bool:
    """Whether `text` is a valid number in E.164 that phonenumbers would parse to itself, told
    without its parse (most of the time an import spends on a customer): True only where each
    step of phonenumbers.parse of "+digits" is known to leave the digits as they are; any doubt
    is False, and the full parse decides. Proven against the parse by a property test."""
    if not _E164_SHAPE.fullmatch(text):
        return False
    digits = text[1:]
    # The country code as phonenumbers takes it: the shortest prefix that is a known code.
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False
    national = digits[size:]
    # A leading zero is kept apart by the parse (Italian numbers), and the length bounds it checks.
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return False
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return False
    # The parse would try to strip a national prefix (or carrier code) the number starts with.
    prefix = metadata.national_prefix_for_parsing
    if prefix:
        pattern = _NATIONAL_PREFIXES.get(prefix)
        if pattern is None:
            pattern = _NATIONAL_PREFIXES[prefix] = re.compile(prefix)
        if pattern.match(national):
            return False
    return phonenumbers.is_valid_number(
        phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    )


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
