"""The desk queue in the browser: the front desk lands on it after signing in, claims an item
with one click, and a snooze without a reason is refused in words; no serious accessibility
violations on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.scheduling.models import Appointment, Schedule

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _unconfirmed(personas: Personas) -> Appointment:
    clinic = personas.clinic
    location = Location.objects.create(clinic=clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=clinic, given_name="Mei", family_name="Lee", credentials="MD"
    )
    schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
    visit = AppointmentType.objects.create(clinic=clinic, name="Follow-up", duration_minutes=20)
    start = timezone.now() + dt.timedelta(hours=2, minutes=3)
    return Appointment.objects.create(
        clinic=clinic,
        patient=make_patient(clinic, given_name="Adaeze", family_name="Okonkwo"),
        schedule=schedule,
        provider=provider,
        appointment_type=visit,
        start=start,
        end=start + dt.timedelta(minutes=20),
        busy_start=start,
        busy_end=start + dt.timedelta(minutes=20),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )


def test_the_front_desk_lands_on_the_desk_queue_and_claims_an_item(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    _unconfirmed(personas)
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Okonkwo, Adaeze")
    expect(row).to_contain_text("Due in 2 h")
    expect(row).to_contain_text("Confirm the appointment")
    expect(row).to_contain_text("Nobody yet")
    assert_accessible(page)

    interactions = 0
    row.get_by_role("button", name=re.compile(r"^Claim")).click()
    interactions += 1
    row = page.get_by_role("row").filter(has_text="Okonkwo, Adaeze")
    expect(row).to_contain_text("It is yours now.")
    expect(row.get_by_role("cell", name="You", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name=re.compile(r"^Release"))).to_be_visible()
    assert interactions == 1
    assert_accessible(page)

    row.get_by_role("link", name=re.compile(r"^Snooze or hand over")).click()
    reason = row.get_by_label("Why")
    expect(reason).to_be_visible()
    row.get_by_label("Snooze until").fill("2020-01-01T09:00")
    reason.fill("Patient asked for a call after lunch")
    row.get_by_role("button", name="Snooze").click()
    expect(row.get_by_role("alert")).to_contain_text("That time has already passed")
    expect(row.get_by_label("Why")).to_have_value("Patient asked for a call after lunch")
    assert_accessible(page)

    # Search stays one key away.
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search patients")).to_be_focused()
