"""How many interactions a busy morning's two booking jobs take: booking a patient from the
chart, and checking a patient out with the follow-up booked. Every click, fill or key press
counts one; the figures are printed so a change that adds a step shows in the test run."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.flow import services
from frontdesk.flow.models import FlowStatus
from frontdesk.scheduling.models import Appointment, Schedule, ScheduleTemplate

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

# Before the confirmation step and the return to the check-out: 4 and 5.
MAX_BOOKING = 5
MAX_CHECK_OUT = 4


def _clinic_day(personas: Personas) -> tuple[Schedule, AppointmentType]:
    location = Location.objects.create(
        clinic=personas.clinic, name="Northside", address="12 Elm Street, Springfield"
    )
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
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    return schedule, kind


def test_booking_from_the_chart_takes_few_interactions(
    transactional_audit: None, personas: Personas, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    _clinic_day(personas)
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")
    page.goto(f"/accounts/login/?next=/patients/{patient.pk}/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Duarte, Ines")

    interactions = 0
    page.get_by_role("link", name="Book appointment").click()
    interactions += 1
    page.get_by_label("Type of visit").select_option(label="Follow-up visit (20 min)")
    interactions += 1
    page.get_by_role("button", name="Find times").click()
    interactions += 1
    expect(page.get_by_role("group", name="Days")).to_be_visible()
    options = page.locator(".slot")
    expect(options.first).to_be_visible()
    assert_accessible(page)
    options.first.click()
    interactions += 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the booking")
    expect(page.get_by_text("Northside")).to_be_visible()
    assert_accessible(page)
    # The confirmation adds this one click: nothing is booked before it.
    page.get_by_role("button", name="Confirm booking").click()
    interactions += 1

    expect(page).to_have_url(re.compile(r"/schedule/appointments/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("Booked Ines Duarte with Mei Lee")
    with capsys.disabled():
        print(f"\ninteractions booking: {interactions}")
    assert interactions <= MAX_BOOKING
    assert Appointment.objects.get(patient=patient).status == "booked"


def test_checking_out_with_a_follow_up_takes_few_interactions(
    transactional_audit: None, personas: Personas, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule, kind = _clinic_day(personas)
    kind.follow_up_interval_days = 14
    kind.save()
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
    visit = Appointment.objects.create(
        clinic=personas.clinic,
        patient=patient,
        schedule=schedule,
        provider=schedule.provider,
        appointment_type=kind,
        start=start,
        end=start + dt.timedelta(minutes=20),
        busy_start=start,
        busy_end=start + dt.timedelta(minutes=20),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=visit
    )
    for step in (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER):
        entry = services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=step)
    page.goto(f"/accounts/login/?next=/flow/check-out/{visit.pk}/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check out Duarte, Ines")

    interactions = 0
    page.get_by_role("link", name=re.compile("Book the follow-up")).click()
    interactions += 1
    page.locator(".slot").first.click()
    interactions += 1
    page.get_by_role("button", name="Confirm booking").click()
    interactions += 1
    # Back on the check-out by itself, the follow-up shown.
    expect(page).to_have_url(re.compile(rf"/flow/check-out/{visit.pk}/$"))
    expect(page.get_by_text("Follow-up booked")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Complete check-out").click()
    interactions += 1
    expect(page.get_by_role("status")).to_contain_text("Ines Duarte is checked out.")
    with capsys.disabled():
        print(f"\ninteractions check-out: {interactions}")
    assert interactions <= MAX_CHECK_OUT
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 1
