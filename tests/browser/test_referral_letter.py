"""A referral letter arrives: uploaded to the filing inbox, the referral registered from it for
the patient found by search; then worked from the desk queue: accepted, booked, and the visit
linked to it, after which it leaves the queue. Every page checked with axe."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.documents.models import Document
from frontdesk.referrals.models import Referral
from frontdesk.scheduling.models import Schedule, ScheduleTemplate

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def _letter() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (850, 1100), "white").save(out, "PDF")
    return out.getvalue()


def test_a_referral_letter_is_uploaded_registered_and_booked(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee", specialty="Family"
    )
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=DAILY",
        start_time=dt.time(0, 0),
        end_time=dt.time(23, 45),
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=15,
    )
    AppointmentType.objects.create(clinic=personas.clinic, name="Consult", duration_minutes=30)
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")

    page.goto("/accounts/login/?next=/documents/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_have_text("Filing inbox")
    assert_accessible(page)
    page.get_by_label("Files").set_input_files(
        {"name": "duarte-referral.pdf", "mimeType": "application/pdf", "buffer": _letter()}
    )
    page.get_by_label("Description").fill("Referral letter from Dr Grey")
    page.get_by_role("button", name="Upload to the inbox").click()
    expect(page.get_by_role("status")).to_contain_text("1 document added to the filing inbox")
    page.get_by_role("link", name="Referral letter from Dr Grey").click()
    expect(page.get_by_alt_text("First page of the document")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Register a referral from this document").click()
    page.get_by_label("Name, birth date, phone or MRN").fill("Duarte")
    page.get_by_role("button", name="Search").click()
    assert_accessible(page)
    page.get_by_role("link", name="Duarte, Ines").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Register a referral")
    page.get_by_label("Referring provider").fill("Dr Ada Grey")
    page.get_by_label("Provider's NPI").fill("1234567894")
    page.get_by_label("Reason for the referral").fill("Recurring headaches")
    page.get_by_label("Urgency").select_option("routine")
    page.get_by_role("button", name="Register the referral").click()
    expect(page.get_by_text("check digit is wrong")).to_be_visible()
    expect(page.get_by_label("Reason for the referral")).to_have_value("Recurring headaches")
    assert_accessible(page)
    page.get_by_label("Provider's NPI").fill("1234567893")
    page.get_by_role("button", name="Register the referral").click()

    expect(page.get_by_role("heading", level=2, name="Received")).to_be_visible()
    assert_accessible(page)
    referral = Referral.objects.get()
    letter = Document.objects.get()
    assert (letter.patient_id, letter.kind) == (patient.pk, "referral")
    assert list(referral.documents.all()) == [letter]

    # The referral waits on the desk queue until it is booked; the officer works it from there.
    item = page.locator(f"#item-referral_unscheduled-{referral.pk}")
    page.goto("/desk/")
    expect(item).to_contain_text("Duarte, Ines")
    assert_accessible(page)
    item.get_by_role("link", name="Get a decision on a referral", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.pk}/$"))
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", level=2, name="Accepted")).to_be_visible()

    page.goto("/desk/")
    item.get_by_role("link", name="Book a referred patient", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.pk}/$"))
    page.get_by_role("link", name="Book the visit").click()
    page.get_by_label("Type of visit").select_option(label="Consult (30 min)")
    page.get_by_role("button", name="Find times").click()
    page.locator(".slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page).to_have_url(re.compile(rf"/referrals/{referral.pk}/$"))
    page.get_by_role("button", name="This visit is for the referral").click()
    expect(page.get_by_role("heading", level=2, name="Scheduled")).to_be_visible()
    assert_accessible(page)
    referral.refresh_from_db()
    assert referral.status == "scheduled"
    assert referral.appointments.get().patient_id == patient.pk

    # Booked, it has left the desk queue.
    page.goto("/desk/")
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
    expect(item).to_have_count(0)
    expect(page.get_by_role("link", name="Book a referred patient")).to_have_count(0)
