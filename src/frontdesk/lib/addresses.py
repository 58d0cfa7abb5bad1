"""One postal address as its country writes it, for every page and paper that shows one.

The chart, check-in, and any letter or receipt that prints an address use these lines, so the
desk reads the same address the same way everywhere ("1763 Molly Court, Singhville, DC 20016").
A small table of line shapes does: the clinic's patients come from a handful of countries, and
a full address-format library would bring in data for every country on earth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple, Protocol

from django.conf import settings


class PostalAddress(Protocol):
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    country: str


# The line below the street, per country, from town, state and postcode; others as in the US.
_LOCALITY: dict[str, Callable[[str, str, str], str]] = {
    "US": lambda city, state, postal: _join(city, _join(state, postal), sep=", "),
    "CA": lambda city, state, postal: _join(city, state, postal),
    "AU": lambda city, state, postal: _join(city, state, postal),
    "MX": lambda city, state, postal: _join(_join(postal, city), state, sep=", "),
    "IN": lambda city, state, postal: _join(_join(city, postal), state, sep=", "),
    # The UK and Ireland write the postcode on a line of its own; here after the town.
    "GB": lambda city, state, postal: _join(city, state, postal, sep=", "),
    "IE": lambda city, state, postal: _join(city, state, postal, sep=", "),
}
# Most of continental Europe puts the postcode before the town.
_POSTAL_FIRST = frozenset({"DE", "FR", "NL", "AT", "BE", "CH", "DK", "ES", "IT", "NO", "SE"})

COUNTRY_NAMES = {
    "US": "United States",
    "CA": "Canada",
    "MX": "Mexico",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "AU": "Australia",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "IN": "India",
}


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(part for part in parts if part)


def address_lines(address: PostalAddress) -> list[str]:
    """The address as lines, in its country's order; the country itself is named only when
    it is not the clinic's own (PHONE_REGION). No street typed: no lines."""
    street = _join(address.address_line1.strip(), address.address_line2.strip(), sep=", ")
    if not street:
        return []
    country = (address.country or "").upper()
    city, state, postal = (
        part.strip() for part in (address.city, address.state, address.postal_code)
    )
    if country in _POSTAL_FIRST:
        locality = _join(_join(postal, city), state, sep=", ")
    else:
        locality = _LOCALITY.get(country, _LOCALITY["US"])(city, state, postal)
    lines = [street, locality]
    if country and country != settings.PHONE_REGION.upper():
        lines.append(COUNTRY_NAMES.get(country, country))
    return [line for line in lines if line]


def address_text(address: PostalAddress) -> str:
    """The address on one line: "1763 Molly Court, Singhville, DC 20016"."""
    return ", ".join(address_lines(address))


# Postal code shapes for the countries a clinic most often sees: (pattern, shape in words).
# The registration form's postal code field checks these (patients/validation.py), and
# `address_split` accepts a line only with a code that field would accept.
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
# States, provinces and territories by their postal abbreviations, where an address names one.
_US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI"
)
_CA_PROVINCES = "AB BC MB NB NL NS NT NU ON PE QC SK YT"
_AU_STATES = "ACT NSW NT QLD SA TAS VIC WA"
REGION_CODES: dict[str, frozenset[str]] = {
    "US": frozenset(_US_STATES.split()),
    "CA": frozenset(_CA_PROVINCES.split()),
    "AU": frozenset(_AU_STATES.split()),
}


def postal_code_fits(code: str, country: str) -> bool | None:
    """Whether a postal code has its country's shape; None for a country without one here."""
    rule = POSTAL_CODE_PATTERNS.get(country.upper())
    if rule is None:
        return None
    return re.fullmatch(rule[0], code, flags=re.IGNORECASE) is not None


class AddressParts(NamedTuple):
    address_line1: str
    city: str
    state: str
    postal_code: str


# How a one-line address is written, per country: "region" = street, town, state or province
# and postcode (US, Canada, Australia); "postcode" = street, town, postcode (UK); "postal_first"
# = street, postcode and town (the continental countries with a postcode shape above).
_SPLIT_ORDER: dict[str, str] = {
    "US": "region",
    "CA": "region",
    "AU": "region",
    "GB": "postcode",
    **{c: "postal_first" for c in sorted(_POSTAL_FIRST) if c in POSTAL_CODE_PATTERNS},
}

# One line of each shape, as the form shows it when a line could not be split.
ADDRESS_SPLIT_EXAMPLES: dict[str, tuple[str, str]] = {
    # country: (a one-line address, a state or province code)
    "US": ("40 Valencia St, San Francisco, CA 94103", "CA"),
    "CA": ("1 Bay St, Toronto, ON M5J 2R8", "ON"),
    "AU": ("10 Smith St, Surry Hills NSW 2010", "NSW"),
    "GB": ("10 Downing St, London, SW1A 2AA", ""),
    "DE": ("Hauptstr. 5, 10115 Berlin", ""),
    "FR": ("5 rue de Rivoli, 75001 Paris", ""),
    "NL": ("Damrak 1, 1012 LG Amsterdam", ""),
}


def address_split(line: str, country: str) -> AddressParts | None:
    """A home address typed on one line, split into its fields; None unless the line has
    exactly its country's shape: "40 Valencia St, San Francisco, CA 94103" (the town may also
    go without its comma, "San Francisco CA 94103"), "10 Downing St, London, SW1A 2AA",
    "Hauptstr. 5, 10115 Berlin". The state must be a known code and the postal code must
    fit the country, so a line missing one, with an extra comma or another country's code is
    left as typed, and the form's own messages ask for the missing parts.

    A small parser rather than a library: usaddress and libpostal guess at any shape with
    statistical models (CRF weights, or gigabytes of data), and a guess can move a word to the
    wrong field without anyone noticing. We accept one exact shape per country, so a line is
    split only where there is no doubt, and the officer sees the split in the fields and on
    the read-back before anything is saved. The browser does the same with the tables of
    `address_split_shapes` (patients/static/patients/address_split.js); this is the authority.
    """
    country = (country or "").upper()
    order = _SPLIT_ORDER.get(country)
    parts = [" ".join(part.split()) for part in line.split(",")]
    if order is None or len(parts) not in (2, 3) or not all(parts):
        return None
    street, tail = parts[0], parts[-1].split()
    town = parts[1].split() if len(parts) == 3 else []
    state = ""
    if order == "postal_first":
        if len(parts) != 2:
            return None
        postal, rest = _postal_at(tail, country, first=True)
        town = rest
    else:
        postal, rest = _postal_at(tail, country, first=False)
        if order == "region":
            if not rest:
                return None
            state = rest[-1].rstrip(".").upper()
            if state not in REGION_CODES[country]:
                return None
            rest = rest[:-1]
        if len(parts) == 3 and rest:
            return None
        town = town or rest
    city = " ".join(town)
    if (
        postal is None
        or not city
        or any(ch.isdigit() for ch in city)
        or not any(ch.isalpha() for ch in street)
    ):
        return None
    return AddressParts(street, city, state, postal)


def _postal_at(words: list[str], country: str, *, first: bool) -> tuple[str | None, list[str]]:
    """The postal code at the start (or end) of the words, as one word or two (K1A 0B1)."""
    for size in (2, 1):
        if len(words) < size:
            continue
        code, rest = (words[:size], words[size:]) if first else (words[-size:], words[:-size])
        if postal_code_fits(" ".join(code), country):
            return " ".join(code).upper(), rest
    return None, words


def address_split_shapes() -> dict[str, dict[str, object]]:
    """The tables `address_split` reads, for the same split in the browser."""
    return {
        country: {
            "order": order,
            "postal": POSTAL_CODE_PATTERNS[country][0],
            "regions": sorted(REGION_CODES.get(country, ())),
        }
        for country, order in _SPLIT_ORDER.items()
    }
