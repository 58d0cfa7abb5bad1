"""The waitlist from the desk: find the patient, put them on the waitlist, change what they wait
for, and see the change on the waitlist page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.scheduling.models import WaitlistEntry, WaitlistPriority, WaitlistStatus

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_an_officer_puts_a_found_patient_on_the_waitlist_and_changes_the_entry(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee", credentials="MD"
    )
    provider.locations.add(location)
    AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")

    page.goto("/accounts/login/?next=/patients/%3Fq%3DDuarte")
    sign_in(page, personas.front_desk)
    results = page.get_by_role("table", name="Patients matching “Duarte”")
    results.get_by_role("link", name="Duarte, Ines").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))

    page.get_by_role("link", name="Wait for an earlier time").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Wait for an earlier time: Duarte, Ines"
    )
    assert_accessible(page)
    page.get_by_label("Type of visit").select_option(label="Follow-up visit (20 min)")
    page.get_by_label("Priority").select_option(label="High")
    page.get_by_label("Note").fill("can come at short notice")
    page.get_by_role("button", name="Put on the waitlist").click()

    expect(page).to_have_url(re.compile(r"/schedule/waitlist/$"))
    expect(page.get_by_role("status")).to_contain_text("Ines Duarte is on the waitlist.")
    row = page.get_by_role("row").filter(has_text="Duarte, Ines")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Follow-up visit")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("any provider")
    expect(row).to_contain_text("can come at short notice")
    assert_accessible(page)

    row.get_by_role("link", name="Change the entry of Duarte, Ines").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Change what Ines waits for")
    expect(page.get_by_label("Note")).to_have_value("can come at short notice")
    expect(page.get_by_label("Priority")).to_have_value(str(WaitlistPriority.HIGH))
    assert_accessible(page)
    page.get_by_label("Priority").select_option(label="Urgent")
    page.get_by_label("Mei Lee, MD").check()
    page.get_by_label("Time of day").select_option(label="Morning")
    page.get_by_label("Note").fill("mornings only, after the school run")
    page.get_by_label("Until").fill("01/01/2000")
    page.get_by_role("button", name="Save changes").click()

    # A mistake is explained and nothing typed is lost.
    expect(page.get_by_text("The last day must be on or after the first day.")).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value("mornings only, after the school run")
    expect(page.get_by_label("Priority")).to_have_value(str(WaitlistPriority.URGENT))
    expect(page.get_by_label("Mei Lee, MD")).to_be_checked()
    assert_accessible(page)
    page.get_by_label("Until").fill("12/31/2099")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(r"/schedule/waitlist/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "The waitlist entry of Ines Duarte is changed."
    )
    row = page.get_by_role("row").filter(has_text="Duarte, Ines")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Urgent")
    expect(row).to_contain_text("Mei Lee, MD")
    expect(row).to_contain_text("morning")
    expect(row).to_contain_text("mornings only, after the school run")
    expect(row).to_contain_text("Dec 31, 2099")
    expect(row).not_to_contain_text("can come at short notice")
    assert_accessible(page)

    entry = WaitlistEntry.objects.get(patient=patient)
    assert entry.status == WaitlistStatus.WAITING
    assert (entry.priority, entry.time_of_day) == (WaitlistPriority.URGENT, "morning")
    assert list(entry.providers.all()) == [provider]
