"""Registering a new patient: search finds nothing, register with read-back, and a second
registration of the same person (typo'd name, swapped day and month) is stopped."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas
from frontdesk.patients.models import Patient

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _fill_registration(page: Page, *, given: str, family: str, born: str) -> None:
    page.get_by_label("Given (first) name").fill(given)
    page.get_by_label("Family (last) name").fill(family)
    page.get_by_label("Birth date").fill(born)
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Main phone", exact=True).fill("(415) 555-0132")
    # Facts about the patient open on "— choose —": each is chosen, none taken for granted.
    page.get_by_label("Main phone is").select_option("mobile")
    page.get_by_label("Preferred way to contact").select_option("phone")
    page.get_by_label("Who pays (guarantor)").select_option("self")
    page.get_by_label("Address", exact=True).fill("12 Mission St")
    page.get_by_label("City / town").fill("San Francisco")
    page.get_by_label("State / region").fill("CA")
    page.get_by_label("Postal code").fill("94105")


def test_it_registers_after_a_read_back_and_stops_a_second_registration_of_the_same_person(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page

    page.get_by_role("searchbox", name="Search patients").fill("Kowalczyk Magdalena")
    page.keyboard.press("Enter")
    expect(page.get_by_text("No patient matches")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Register a new patient").click()

    expect(page.get_by_role("heading", name="Register a new patient")).to_be_visible()
    # What was typed in the search box is carried into the form.
    expect(page.get_by_label("Family (last) name")).to_have_value("Kowalczyk")
    expect(page.get_by_label("Given (first) name")).to_have_value("Magdalena")
    _fill_registration(page, given="Magdalena", family="Kowalczyk", born="03/07/1985")
    page.get_by_label("Birth date").fill("03/07/2099")
    page.get_by_role("button", name="Review and read back").click()
    expect(page.get_by_text("The birth date is in the future")).to_be_visible()
    expect(page.get_by_label("Family (last) name")).to_have_value("Kowalczyk")  # kept
    assert_accessible(page)

    page.get_by_label("Birth date").fill("03/07/1985")
    page.get_by_role("button", name="Review and read back").click()
    expect(page.get_by_role("heading", name="Read these back to the patient")).to_be_visible()
    expect(page.get_by_text("K-O-W-A-L-C-Z-Y-K")).to_be_visible()
    expect(page.get_by_text("the seventh of March, nineteen eighty-five")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Everything is right: register").click()

    first = Patient.objects.get()
    expect(page).to_have_url(re.compile(rf"/patients/{first.pk}/$"))
    expect(page.get_by_role("status").filter(has_text="Registered")).to_contain_text(
        f"MRN {first.mrn}"
    )
    assert_accessible(page)

    # The same person at the desk again: a typo in the family name, day and month swapped.
    page.goto("/patients/register/")
    _fill_registration(page, given="Magdalena", family="Kowalcyzk", born="07/03/1985")
    page.get_by_role("button", name="Review and read back").click()
    warning = page.get_by_role("alert").filter(has_text="a patient we already have")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(first.mrn)
    # Opening the existing patient is the primary action, and has the focus.
    open_existing = page.get_by_role("button", name="This is the patient: open Magdalena")
    expect(open_existing).to_have_class(re.compile(r"\bprimary\b"))
    expect(open_existing).to_be_focused()
    register_anyway = page.get_by_role("button", name="Different person: register anyway")
    expect(register_anyway).not_to_have_class(re.compile(r"\bprimary\b"))
    # What was typed beside the record, each difference said in words.
    compared = page.get_by_role("table", name=re.compile("What was typed beside the record"))
    expect(compared.get_by_role("row", name=re.compile("^Birth date"))).to_contain_text(
        "Different (Day and month swapped)"
    )
    expect(compared.get_by_role("row", name=re.compile("^Address"))).to_contain_text("Same")
    assert_accessible(page)

    register_anyway.click()
    expect(page.locator(".field-error")).to_contain_text("say why this is a different person")
    assert Patient.objects.count() == 1
    page.get_by_label("Why is this a different person?").fill("twins")
    page.get_by_role("button", name="Different person: register anyway").click()
    expect(page.locator(".field-error")).to_contain_text("Say a little more")
    expect(page.get_by_label("Why is this a different person?")).to_have_value("twins")  # kept
    expect(page.get_by_label("Why is this a different person?")).to_be_focused()
    assert Patient.objects.count() == 1
    assert_accessible(page)

    page.get_by_role("button", name="This is the patient").click()
    expect(page).to_have_url(re.compile(rf"/patients/{first.pk}/$"))
    expect(
        page.get_by_role("status").filter(has_text="Opened the existing record")
    ).to_contain_text("No new record was made")
    assert Patient.objects.count() == 1


def test_a_one_line_address_fills_its_fields_only_when_it_has_its_countrys_shape(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page
    page.goto("/patients/register/")
    street, city = page.get_by_label("Address", exact=True), page.get_by_label("City / town")
    postal = page.get_by_label("Postal code")
    # No postal code: left as typed, for the page to ask for the rest.
    street.fill("40 Valencia St, San Francisco, CA")
    page.get_by_label("Address line 2").focus()
    expect(street).to_have_value("40 Valencia St, San Francisco, CA")
    expect(city).to_have_value("")
    # A UK line is not a US address; once the country is the UK, it is.
    street.fill("10 Downing St, London, SW1A 2AA")
    page.get_by_label("Address line 2").focus()
    expect(city).to_have_value("")
    page.locator("#id_country").select_option("GB")
    expect(street).to_have_value("10 Downing St")
    expect(city).to_have_value("London")
    expect(postal).to_have_value("SW1A 2AA")
    expect(page.get_by_label("State / region")).to_have_value("")
    assert_accessible(page)
