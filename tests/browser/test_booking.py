"""Booking from a found patient to a booked appointment, counting every click and field."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.models import Appointment, Schedule, ScheduleTemplate

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

MAX_INTERACTIONS = 6


def test_it_books_from_the_chart_in_at_most_six_interactions(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Mei",
        family_name="Lee",
        credentials="MD",
        specialty="Family",
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
    AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")

    page.goto(f"/accounts/login/?next=/patients/{patient.pk}/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Duarte, Ines")

    interactions = 0
    page.get_by_role("link", name="Book appointment").click()
    interactions += 1
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book Duarte, Ines")
    assert_accessible(page)
    page.get_by_label("Type of visit").select_option(label="Follow-up visit (20 min)")
    interactions += 1
    page.get_by_role("button", name="Find times").click()
    interactions += 1
    options = page.get_by_role("list").locator(".slot")
    expect(options.first).to_be_visible()
    assert_accessible(page)
    options.first.click()
    interactions += 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    assert_accessible(page)
    page.get_by_role("button", name="Confirm booking").click()
    interactions += 1

    expect(page).to_have_url(re.compile(r"/schedule/appointments/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("Booked Ines Duarte with Mei Lee")
    assert_accessible(page)
    assert interactions <= MAX_INTERACTIONS
    appointment = Appointment.objects.get()
    assert appointment.patient == patient and appointment.status == "booked"

    page.get_by_role("link", name="Schedule").click()
    # The day view reads its date in the clinic's zone, where the visit falls.
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    page.goto(f"/schedule/?date={day.isoformat()}")
    expect(page.get_by_role("table")).to_contain_text("Duarte, Ines")
    assert_accessible(page)


def test_going_back_from_the_confirmation_keeps_the_reason_and_note(
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
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")
    page.goto(
        f"/accounts/login/?next=/schedule/patients/{patient.pk}/find/?appointment_type={kind.pk}"
    )
    sign_in(page, personas.front_desk)
    page.locator(".slot").first.click()
    page.get_by_label("Reason for the visit (optional)").fill("knee pain")
    page.get_by_label("Note for staff (optional)").fill("call after 5")
    page.get_by_role("button", name="Back").click()

    expect(page.get_by_text("The reason and note you typed are kept")).to_be_visible()
    assert "knee" not in page.url
    days = page.get_by_role("group", name="Days").get_by_role("button")
    days.nth(2).click()
    expect(days.nth(2)).to_have_attribute("aria-pressed", "true")
    page.locator(".slot").nth(3).click()
    expect(page.get_by_label("Reason for the visit (optional)")).to_have_value("knee pain")
    expect(page.get_by_label("Note for staff (optional)")).to_have_value("call after 5")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("status")).to_contain_text("Booked Ines Duarte")
    expect(page.get_by_text("knee pain")).to_be_visible()
    appointment = Appointment.objects.get()
    assert (appointment.reason, appointment.note) == ("knee pain", "call after 5")
