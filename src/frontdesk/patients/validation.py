"""Field rules for patient data, each failing with a message in the officer's words."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions

from frontdesk.lib import patterns
from frontdesk.lib.addresses import POSTAL_CODE_PATTERNS, REGION_CODES, postal_code_fits

logger = logging.getLogger(__name__)

MAX_AGE_YEARS = 120

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


def clean_postal_code(value: str, *, country: str) -> str:
    code = " ".join(value.split()).upper()
    if not code:
        return code
    fits = postal_code_fits(code, country)
    if fits is False:
        shape = POSTAL_CODE_PATTERNS[country.upper()][1]
        raise ValidationError(f"That postal code does not fit {country.upper()}: use {shape}.")
    if fits is None and not 2 <= len(code) <= 10:
        raise ValidationError("A postal code is 2 to 10 characters.")
    return code


def clean_member_id(value: str, *, pattern: str, payer_name: str, example: str = "") -> str:
    """The member ID without spaces, in capitals, checked against the payer's pattern.

    The pattern is matched by RE2 in linear time (lib/patterns.py). A pattern saved before
    that which RE2 cannot use (a backreference, a lookaround) is skipped rather than blocking
    the desk: the payer list shows the administrator that it needs rewriting."""
    member_id = "".join(value.split()).upper()
    if not member_id:
        raise ValidationError("Type the member ID from the insurance card.")
    if not pattern:
        return member_id
    try:
        matches = patterns.pattern_fullmatch(pattern, member_id)
    except patterns.PatternError as exc:
        logger.warning("%s: member-ID pattern not checked (%s)", payer_name, exc)
        return member_id
    if not matches:
        hint = f" such as {example}" if example else ""
        raise ValidationError(
            f"{payer_name} member IDs look different{hint}. Check the card and type it again."
        )
    return member_id


def pattern_problem(pattern: str) -> str:
    """Why a saved member-ID pattern is not used to check IDs, or "" when it is (or is empty)."""
    try:
        patterns.pattern_check(pattern)
    except patterns.PatternError as exc:
        return str(exc)
    return ""


def validate_regex(pattern: str) -> None:
    """Refuse, in words, a member-ID pattern that RE2 cannot match in linear time."""
    try:
        patterns.pattern_check(pattern)
    except patterns.PatternError as exc:
        raise ValidationError(str(exc)) from None


# Identity documents. Numbers are kept as capital letters and digits: people type the spaces,
# hyphens and dots printed on the card in different ways, and one document must be one number.
_DOCUMENT_SEPARATORS = re.compile(r"[\s\-./]")
_DOCUMENT_CHARACTERS = re.compile(r"[A-Z0-9]+")
DOCUMENT_NUMBER_LENGTHS: dict[str, tuple[int, int]] = {
    # ICAO 9303: the machine-readable zone holds a passport number of at most 9 characters.
    "passport": (5, 9),
    "drivers_licence": (4, 20),
    "national_id": (4, 20),
    "other": (3, 30),
}
# Passport numbers whose shape is fixed and well known: (pattern, shape in words).
PASSPORT_PATTERNS: dict[str, tuple[str, str]] = {
    "US": (r"\d{9}|[A-Z]\d{8}", "9 digits, or a letter and 8 digits"),
    "CA": (r"[A-Z]{2}\d{6}", "2 letters and 6 digits, e.g. AB123456"),
    "GB": (r"\d{9}", "9 digits"),
    "IE": (r"[A-Z]{2}\d{7}", "2 letters and 7 digits"),
    "AU": (r"[A-Z]{1,2}\d{7}", "1 or 2 letters and 7 digits, e.g. PA1234567"),
    "IN": (r"[A-Z]\d{7}", "a letter and 7 digits, e.g. J8369854"),
    "FR": (r"\d{2}[A-Z]{2}\d{5}", "2 digits, 2 letters and 5 digits, e.g. 12AB34567"),
}
# National identity numbers with a published check (python-stdnum): module and its name.
NATIONAL_ID_RULES: dict[str, tuple[str, str]] = {
    "US": ("stdnum.us.ssn", "Social Security number (9 digits)"),
    "CA": ("stdnum.ca.sin", "Social Insurance Number (9 digits)"),
    "MX": ("stdnum.mx.curp", "CURP (18 letters and digits)"),
    "IE": ("stdnum.ie.pps", "PPS number"),
    "NL": ("stdnum.nl.bsn", "BSN (9 digits)"),
    "IN": ("stdnum.in_.aadhaar", "Aadhaar number (12 digits)"),
    "FR": ("stdnum.fr.nir", "NIR (social security number, 15 digits)"),
}
# Driver's licences are issued by a state or province in these countries: the issuer is the
# state, given by its postal abbreviation so "CA" and "Calif." are the same issuer.
LICENCE_STATES: dict[str, frozenset[str]] = REGION_CODES
DOCUMENT_LATEST_EXPIRY_YEARS = 30


def clean_document_number(value: str, *, kind: str, country: str) -> str:
    """The number as capital letters and digits, or a message saying what is wrong."""
    typed = unicodedata.normalize("NFKC", value).upper()
    number = _DOCUMENT_SEPARATORS.sub("", typed)
    if not number:
        raise ValidationError("Type the document number as printed on the document.")
    if not (number.isascii() and _DOCUMENT_CHARACTERS.fullmatch(number)):
        raise ValidationError(
            "A document number has only letters A to Z and digits; spaces and hyphens may be "
            "typed but are left out."
        )
    shortest, longest = DOCUMENT_NUMBER_LENGTHS.get(kind, DOCUMENT_NUMBER_LENGTHS["other"])
    if not shortest <= len(number) <= longest:
        raise ValidationError(
            f"This kind of document has {shortest} to {longest} letters and digits in its "
            f"number, and {len(number)} were typed. Check it against the document."
        )
    if kind != "other" and not any(c.isdigit() for c in number):
        raise ValidationError("Document numbers have digits in them. Check the number.")
    country = country.upper()
    if kind == "passport" and country in PASSPORT_PATTERNS:
        pattern, shape = PASSPORT_PATTERNS[country]
        if not re.fullmatch(pattern, number):
            raise ValidationError(f"Passports from {country} have {shape}. Check the number.")
    if kind == "national_id" and country in NATIONAL_ID_RULES:
        module_name, name = NATIONAL_ID_RULES[country]
        module = importlib.import_module(module_name)
        try:
            number = str(module.compact(module.validate(number)))
        except stdnum_exceptions.ValidationError:
            raise ValidationError(
                f"That is not a valid {name} for {country}. Check the digits."
            ) from None
    return number


def clean_issuing_state(value: str, *, kind: str, country: str) -> str:
    """The issuing state or province of a driver's licence; other documents have none."""
    state = normalise_typed_text(value).upper().replace(".", "")
    if kind != "drivers_licence":
        return ""
    known = LICENCE_STATES.get(country.upper())
    if known is None:
        if len(state) > 50:
            raise ValidationError("The state or province is too long: at most 50 characters.")
        return state
    if not state:
        raise ValidationError(
            f"Driver's licences in {country.upper()} are issued by a state or province: type "
            "its abbreviation, e.g. NY."
        )
    if state not in known:
        raise ValidationError(
            f"Type the state or province of {country.upper()} as its postal abbreviation, "
            f"e.g. {sorted(known)[0]}."
        )
    return state


def clean_document_expiry(value: dt.date, *, today: dt.date) -> dt.date:
    if value.year > today.year + DOCUMENT_LATEST_EXPIRY_YEARS:
        raise ValidationError(
            f"That expiry date is more than {DOCUMENT_LATEST_EXPIRY_YEARS} years away. "
            "Check the year."
        )
    return value
