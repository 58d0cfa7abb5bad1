"""Identity documents on the chart: added by the front desk, found by their number from the
search box, masked until "show" is pressed (which is audited)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_it_adds_a_document_from_the_chart_finds_the_patient_by_it_and_reveals_it_on_request(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Adaeze", family_name="Okonkwo")
    page.goto(f"/patients/{patient.pk}/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Identity documents")).to_be_visible()

    page.get_by_role("link", name="Add an identity document").click()
    page.get_by_label("Document type").select_option("drivers_licence")
    page.get_by_label("Document number").fill("d123-4567")
    page.get_by_label("Issuing state or province").fill("Texas")
    page.get_by_role("button", name="Save document").click()
    expect(page.get_by_text("postal abbreviation")).to_be_visible()
    expect(page.get_by_label("Document number")).to_have_value("d123-4567")  # kept
    assert_accessible(page)
    page.get_by_label("Issuing state or province").fill("tx")
    page.get_by_role("button", name="Save document").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    documents = page.get_by_role("region", name="Identity documents")
    expect(documents).to_contain_text("•••• 4567")
    expect(documents).not_to_contain_text("D1234567")
    assert_accessible(page)

    page.get_by_role("searchbox", name="Search patients").fill("D 123 4567")
    page.keyboard.press("Enter")
    page.get_by_role("link", name=re.compile("Okonkwo")).click()

    documents = page.get_by_role("region", name="Identity documents")
    documents.get_by_role("button", name="Show the driver's licence number").click()
    expect(documents).to_contain_text("D1234567")
    reveal = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert reveal.object_type == "identity_document" and reveal.patient_ids == [patient.pk]
