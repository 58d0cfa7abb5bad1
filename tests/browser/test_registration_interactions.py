"""How much work registering a new insured patient takes at the desk: every click, every field
filled, every choice made and every key pressed counts one, from the empty registration page
to the saved chart showing the insurance."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from conftest import Personas
from frontdesk.patients.models import Coverage, Patient, Payer

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

# Registering, then adding the insurance from the chart ("Add insurance", the same four
# insurance fields, "Save insurance"), counted by this test before the insurance block existed.
BEFORE = 20
# Fewer than 15 cannot be reached while every fact about the patient is chosen, never preset
# (lib/choices.py): 7 fields typed (2 names, birth date, phone, address, member ID, co-pay),
# 6 choices (sex, kind of phone, way to contact, guarantor, payer, relationship to the
# subscriber) and 2 clicks (read back, register). The address takes 4 fields here, not 1.
MOST_INTERACTIONS = 18


class Counted:
    """The officer's hands: each action goes through here and is counted."""

    def __init__(self) -> None:
        self.count = 0

    def fill(self, field: Locator, value: str) -> None:
        self.count += 1
        field.fill(value)

    def select(self, field: Locator, value: str | None = None, *, label: str | None = None) -> None:
        self.count += 1
        if label is not None:
            field.select_option(label=label)
        else:
            field.select_option(value)

    def click(self, target: Locator) -> None:
        self.count += 1
        target.click()


def _fill_demographics(page: Page, hands: Counted) -> None:
    hands.fill(page.get_by_label("Given (first) name"), "Rosalind")
    hands.fill(page.get_by_label("Family (last) name"), "Okonkwo-Baptiste")
    hands.fill(page.get_by_label("Birth date"), "11/23/1979")
    hands.select(page.get_by_label("Sex"), "female")
    hands.fill(page.get_by_label("Main phone", exact=True), "(415) 555-0177")
    hands.select(page.get_by_label("Main phone is"), "mobile")
    hands.select(page.get_by_label("Preferred way to contact"), "phone")
    hands.select(page.get_by_label("Who pays (guarantor)"), "self")
    hands.fill(page.get_by_label("Address", exact=True), "40 Valencia St")
    hands.fill(page.get_by_label("City / town"), "San Francisco")
    hands.fill(page.get_by_label("State / region"), "CA")
    hands.fill(page.get_by_label("Postal code"), "94103")


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
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()
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
    _report(hands, capsys)
    assert hands.count <= MOST_INTERACTIONS < BEFORE
