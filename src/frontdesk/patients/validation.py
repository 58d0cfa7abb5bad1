"""Field rules for patient data, each failing with a message in the officer's words."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError

MAX_AGE_YEARS = 120

# Postal code shapes for the countries a clinic most often sees; others are checked for length.
POSTAL_CODE_PATTERNS: dict[str, tuple[str, str]] = {
    "US": (r"\d{5}(-\d{4})?", "5 digits, or ZIP+4 such as 20500-0003"),
    "CA": (
        r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d",
        "letter-digit-letter digit-letter-digit, e.g. K1A 0B1",
    ),
    "GB": (r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}", "a UK postcode such as SW1A 1AA"),
    "AU": (r"\d{4}", "4 digits"),
    "DE": (r"\d{5}", "5 digits"),
    "FR": (r"\d{5}", "5 digits"),
    "NL": (r"\d{4} ?[A-Za-z]{2}", "4 digits and 2 letters, e.g. 1012 AB"),
    "IE": (r"[A-Za-z\d]{3} ?[A-Za-z\d]{4}", "an Eircode such as D02 X285"),
    "IN": (r"\d{6}", "6 digits"),
    "MX": (r"\d{5}", "5 digits"),
}

_NAME_ALLOWED = re.compile(r"^[^\W\d_]+(?:[ '\u2019\-.][^\W\d_]*)*\.?$", re.UNICODE)


def normalise_typed_text(value: str) -> str:
    """NFC-normalise and tidy spaces, but keep the spelling and capitals as typed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def clean_person_name(value: str, *, label: str) -> str:
    name = normalise_typed_text(value)
    if not name:
        return name
    if len(name) > 100:
        raise ValidationError(f"{label} is too long: at most 100 characters.")
    if not _NAME_ALLOWED.match(name):
        raise ValidationError(
            f"{label} can contain letters, spaces, hyphens, apostrophes and full stops only."
        )
    return name


def clean_birth_date(value: dt.date, *, today: dt.date) -> dt.date:
    if value > today:
        raise ValidationError("The birth date is in the future. Check the year.")
    oldest = (
        today.replace(year=today.year - MAX_AGE_YEARS)
        if not (today.month == 2 and today.day == 29)
        else dt.date(today.year - MAX_AGE_YEARS, 3, 1)
    )
    if value < oldest:
        raise ValidationError(f"That makes the patient older than {MAX_AGE_YEARS}. Check the year.")
    return value


def clean_phone(value: str, *, region: str) -> str:
    """Return the number in E.164 (+12025550143), or explain what is wrong."""
    text = value.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "That does not look like a phone number. Type the digits, with the country code "
            "(+44 …) for numbers from abroad."
        ) from None
    if not phonenumbers.is_valid_number(number):
        country = phonenumbers.region_code_for_number(number) or region
        raise ValidationError(
            f"That is not a valid phone number for {country}. Check the digits and the area code."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_is_mobile(e164: str) -> bool:
    number = phonenumbers.parse(e164, None)
    kind = phonenumbers.number_type(number)
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def clean_postal_code(value: str, *, country: str) -> str:
    code = " ".join(value.split()).upper()
    if not code:
        return code
    rule = POSTAL_CODE_PATTERNS.get(country.upper())
    if rule is not None:
        pattern, shape = rule
        if not re.fullmatch(pattern, code, flags=re.IGNORECASE):
            raise ValidationError(f"That postal code does not fit {country.upper()}: use {shape}.")
    elif not 2 <= len(code) <= 10:
        raise ValidationError("A postal code is 2 to 10 characters.")
    return code


def clean_member_id(value: str, *, pattern: str, payer_name: str, example: str = "") -> str:
    member_id = "".join(value.split()).upper()
    if not member_id:
        raise ValidationError("Type the member ID from the insurance card.")
    if pattern and not re.fullmatch(pattern, member_id):
        hint = f" such as {example}" if example else ""
        raise ValidationError(
            f"{payer_name} member IDs look different{hint}. Check the card and type it again."
        )
    return member_id


def validate_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationError(f"That pattern is not a valid regular expression ({exc}).") from None
