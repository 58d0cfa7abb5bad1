"""One postal address as its country writes it, for every page and paper that shows one.

The chart, check-in, and any letter or receipt that prints an address use these lines, so the
desk reads the same address the same way everywhere ("1763 Molly Court, Singhville, DC 20016").
A small table of line shapes does: the clinic's patients come from a handful of countries, and
a full address-format library would bring in data for every country on earth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

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
