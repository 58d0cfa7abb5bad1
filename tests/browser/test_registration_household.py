"""A twin at the desk: the read-back shows the sibling as a family member at the same
address, not as a duplicate, and the twin is registered without an override reason."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.patients.models import Patient

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_a_twins_registration_shows_the_family_note_and_saves_without_an_override(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    sister = make_patient(
        personas.clinic,
        given_name="Magdalena",
        family_name="Kowalczyk",
        birth_date=dt.date(1985, 3, 7),
        sex="female",
        phone="+14155550132",
        address_line1="12 Mission St",
        city="San Francisco",
        state="CA",
        postal_code="94105",
    )
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page

    page.goto("/patients/register/")
    page.get_by_label("Given (first) name").fill("Zofia")
    page.get_by_label("Family (last) name").fill("Kowalczyk")
    page.get_by_label("Birth date").fill("03/07/1985")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Main phone", exact=True).fill("(415) 555-0132")
    page.get_by_label("Main phone is").select_option("mobile")
    page.get_by_label("Preferred way to contact").select_option("phone")
    page.get_by_label("Who pays (guarantor)").select_option("self")
    page.get_by_label("Address", exact=True).fill("12 Mission St")
    page.get_by_label("City / town").fill("San Francisco")
    page.get_by_label("State / region").fill("CA")
    page.get_by_label("Postal code").fill("94105")
    page.get_by_role("button", name="Review and read back").click()

    expect(page.get_by_role("heading", name="Read these back to the patient")).to_be_visible()
    note = page.locator("section").filter(
        has=page.get_by_role("heading", name="Family member at the same address")
    )
    expect(note).to_be_visible()
    expect(note).to_contain_text(sister.mrn)
    expect(note).to_contain_text("twin")
    # A note, not a warning: no alert, and no reason asked for.
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("Why is this a different person?")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name="Everything is right: register").click()

    twin = Patient.objects.get(given_name="Zofia")
    expect(page).to_have_url(re.compile(rf"/patients/{twin.pk}/$"))
    expect(page.get_by_role("status").filter(has_text="Registered")).to_contain_text(
        f"MRN {twin.mrn}"
    )
    assert Patient.objects.count() == 2
