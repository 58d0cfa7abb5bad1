"""How much work registering a new insured patient takes at the desk: every click, every field
filled, every choice made and every key pressed counts one, from the empty registration page
to the saved chart showing the insurance and the address."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas
from frontdesk.patients.models import Coverage, Patient, Payer

from .helpers import Counted, assert_accessible, sign_in

pytestmark = pytest.mark.browser

# Registering, then adding the insurance from the chart ("Add insurance", the same four
# insurance fields, "Save insurance"), counted by this test before the insurance block existed.
BEFORE = 20
# Insurance on the registration page, the address still typed in 4 fields.
ONE_PASS = 18
# Fewer than 15 cannot be reached while every fact about the patient is chosen, never preset
# (lib/choices.py): 7 fields typed (2 names, birth date, phone, the address on one line,
# member ID, co-pay), 6 choices (sex, kind of phone, way to contact, guarantor, payer,
# relationship to the subscriber) and 2 clicks (read back, register).
MOST_INTERACTIONS = 15
ADDRESS = "40 Valencia St, San Francisco, CA 94103"


def _fill_demographics(page: Page, hands: Counted) -> None:
    hands.fill(page.get_by_label("Given (first) name"), "Rosalind")
    hands.fill(page.get_by_label("Family (last) name"), "Okonkwo-Baptiste")
    hands.fill(page.get_by_label("Birth date"), "11/23/1979")
    hands.select(page.get_by_label("Sex"), "female")
    # The whole address on one line: it goes into its fields as the officer moves on.
    hands.fill(page.get_by_label("Address", exact=True), ADDRESS)
    hands.fill(page.get_by_label("Main phone", exact=True), "(415) 555-0177")
    expect(page.get_by_label("Address", exact=True)).to_have_value("40 Valencia St")
    expect(page.get_by_label("City / town")).to_have_value("San Francisco")
    expect(page.get_by_label("State / region")).to_have_value("CA")
    expect(page.get_by_label("Postal code")).to_have_value("94103")
    expect(page.get_by_text("The address was split into its fields below")).to_be_visible()
    hands.select(page.get_by_label("Main phone is"), "mobile")
    hands.select(page.get_by_label("Preferred way to contact"), "phone")
    hands.select(page.get_by_label("Who pays (guarantor)"), "self")


def _report(hands: Counted, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\ninteractions registration: {hands.count}")


def test_registering_a_patient_with_insurance_takes_one_pass_and_fewer_interactions(
    transactional_audit: None, personas: Personas, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    payer = Payer.objects.create(
        clinic=personas.clinic, name="Bay Mutual", member_id_pattern=r"BM\d{6}"
    )
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page
    page.goto("/patients/register/")
    hands = Counted()

    _fill_demographics(page, hands)
    # The insurance, on the same page.
    hands.select(page.get_by_label("Payer"), label="Bay Mutual")
    hands.fill(page.get_by_label("Member ID"), "BM123456")
    hands.fill(page.get_by_label("Co-pay per visit"), "25.00")
    hands.select(page.get_by_label("Patient is the subscriber's"), "self")
    expect(page.get_by_text("Add the card image from the chart")).to_be_visible()
    assert_accessible(page)
    hands.click(page.get_by_role("button", name="Review and read back"))
    readback = page.get_by_role("table", name=re.compile("Critical details"))
    expect(readback.get_by_role("row", name=re.compile("^Insurance"))).to_contain_text("Bay Mutual")
    expect(readback.get_by_role("row", name=re.compile("^Member ID"))).to_contain_text(
        "B-M-1-2-3-4-5-6"
    )
    expect(readback.get_by_role("row", name=re.compile("^Co-pay"))).to_contain_text("$25.00")
    for label, value in (
        ("Address", "40 Valencia St"),
        ("City / town", "San Francisco"),
        ("State / region", "CA"),
        ("Postal code", "94103"),
    ):
        expect(readback.get_by_role("row", name=label)).to_contain_text(value)
    hands.click(page.get_by_role("button", name="Everything is right: register"))
    expect(page).to_have_url(re.compile(r"/patients/\d+/$"))
    patient = Patient.objects.get()
    assert page.url.endswith(f"/patients/{patient.pk}/")
    expect(page.get_by_text("BM123456")).to_be_visible()
    coverage = Coverage.objects.get(patient=patient)
    assert (coverage.payer, coverage.member_id, coverage.copay) == (
        payer,
        "BM123456",
        Decimal("25.00"),
    )
    # The chart shows the address from its fields, in the country's order.
    home = page.locator("dt", has_text=re.compile("^Address$")).locator("xpath=following::dd[1]")
    expect(home).to_have_text(re.compile(r"^40 Valencia St\s*San Francisco, CA 94103$"))
    assert (patient.address_line1, patient.city, patient.state, patient.postal_code) == (
        "40 Valencia St",
        "San Francisco",
        "CA",
        "94103",
    )
    _report(hands, capsys)
    assert hands.count <= MOST_INTERACTIONS < ONE_PASS < BEFORE
