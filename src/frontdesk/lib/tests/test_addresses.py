from __future__ import annotations

from dataclasses import dataclass

import pytest

from frontdesk.lib.addresses import (
    AddressParts,
    address_lines,
    address_split,
    address_split_shapes,
    address_text,
)


@dataclass
class Typed:
    address_line1: str = "1763 Molly Court"
    address_line2: str = ""
    city: str = "Singhville"
    state: str = "DC"
    postal_code: str = "20016"
    country: str = "US"


@pytest.mark.parametrize(
    ("address", "written"),
    [
        (Typed(), "1763 Molly Court, Singhville, DC 20016"),
        (Typed(address_line2="Apt 4"), "1763 Molly Court, Apt 4, Singhville, DC 20016"),
        (Typed(city=""), "1763 Molly Court, DC 20016"),
        (Typed(state="", postal_code=""), "1763 Molly Court, Singhville"),
        (
            Typed(
                address_line1="1 Bay St",
                city="Toronto",
                state="ON",
                postal_code="M5V 2T6",
                country="CA",
            ),
            "1 Bay St, Toronto ON M5V 2T6, Canada",
        ),
        (
            Typed(
                address_line1="Hauptstr. 5",
                city="Berlin",
                state="",
                postal_code="10115",
                country="DE",
            ),
            "Hauptstr. 5, 10115 Berlin, Germany",
        ),
        (
            Typed(
                address_line1="1 High St",
                city="London",
                state="",
                postal_code="SW1A 1AA",
                country="GB",
            ),
            "1 High St, London, SW1A 1AA, United Kingdom",
        ),
    ],
)
def test_it_writes_an_address_in_its_countrys_order(address: Typed, written: str) -> None:
    assert address_text(address) == written


def test_it_writes_nothing_without_a_street() -> None:
    assert address_lines(Typed(address_line1="", address_line2="")) == []


SPLIT: list[tuple[str, str, tuple[str, str, str, str]]] = [
    (
        "40 Valencia St, San Francisco, CA 94103",
        "US",
        ("40 Valencia St", "San Francisco", "CA", "94103"),
    ),
    (
        "40 Valencia St, San Francisco CA 94103-1234",
        "US",
        ("40 Valencia St", "San Francisco", "CA", "94103-1234"),
    ),
    (
        "  40  Valencia St ,Austin,  tx.  78701 ",
        "US",
        ("40 Valencia St", "Austin", "TX", "78701"),
    ),
    ("PO Box 123, Springfield, IL 62704", "US", ("PO Box 123", "Springfield", "IL", "62704")),
    ("1 Bay St, Toronto, ON m5j 2r8", "CA", ("1 Bay St", "Toronto", "ON", "M5J 2R8")),
    ("1 Bay St, Toronto ON M5J2R8", "CA", ("1 Bay St", "Toronto", "ON", "M5J2R8")),
    ("10 Smith St, Surry Hills NSW 2010", "AU", ("10 Smith St", "Surry Hills", "NSW", "2010")),
    ("10 Downing St, London, SW1A 2AA", "GB", ("10 Downing St", "London", "", "SW1A 2AA")),
    ("10 Downing St, London SW1A 2AA", "GB", ("10 Downing St", "London", "", "SW1A 2AA")),
    ("Hauptstr. 5, 10115 Berlin", "de", ("Hauptstr. 5", "Berlin", "", "10115")),
    ("Damrak 1, 1012 LG Amsterdam", "NL", ("Damrak 1", "Amsterdam", "", "1012 LG")),
]
LEFT_AS_TYPED: list[tuple[str, str]] = [
    ("40 Valencia St", "US"),  # only the street
    ("40 Valencia St, San Francisco, CA", "US"),  # no postal code
    ("40 Valencia St, San Francisco, 94103", "US"),  # no state
    ("40 Valencia St, San Francisco, ZZ 94103", "US"),  # no such state
    ("40 Valencia St, San Francisco, CA 9410", "US"),  # a ZIP code is 5 digits
    ("40 Valencia St, Apt 2, San Francisco, CA 94103", "US"),  # an extra comma
    ("40 Valencia St, Apt 2, CA 94103", "US"),  # a flat is not a town
    ("40 Valencia St,, San Francisco, CA 94103", "US"),  # an empty part
    ("40 Valencia St, San Francisco, Bay Area CA 94103", "US"),  # town twice
    ("1 Bay St, Toronto, CA 94103", "CA"),  # a US line for a Canadian address
    ("10 Smith St, Sydney, NSW 20000", "AU"),
    ("10 Downing St, London", "GB"),
    ("Hauptstr. 5, Berlin 10115", "DE"),  # the postcode goes first there
    ("1 Main Rd, Dublin, D02 X285", "IE"),  # no one-line shape for this country here
    ("1 Main Rd, Springfield, IL 62704", ""),
]


@pytest.mark.parametrize(("line", "country", "parts"), SPLIT)
def test_it_splits_a_one_line_address_of_the_exact_shape(
    line: str, country: str, parts: tuple[str, str, str, str]
) -> None:
    assert address_split(line, country) == AddressParts(*parts)


@pytest.mark.parametrize(("line", "country"), LEFT_AS_TYPED)
def test_it_leaves_a_line_of_any_other_shape_as_typed(line: str, country: str) -> None:
    assert address_split(line, country) is None


def test_the_browser_gets_the_same_tables() -> None:
    shapes = address_split_shapes()
    assert shapes["US"]["order"] == "region" and "CA" in shapes["US"]["regions"]  # type: ignore[operator]
    assert shapes["GB"] == {"order": "postcode", "postal": shapes["GB"]["postal"], "regions": []}
    assert set(shapes) == {"US", "CA", "AU", "GB", "DE", "FR", "NL"}
