from __future__ import annotations

from dataclasses import dataclass

import pytest

from frontdesk.lib.addresses import address_lines, address_text


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
