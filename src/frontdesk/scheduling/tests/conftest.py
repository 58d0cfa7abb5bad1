from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.scheduling.models import Appointment, Schedule, ScheduleTemplate
from frontdesk.scheduling.tests.waitlist_support import NOW, at, book


@pytest.fixture
def clinic_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Mei",
        family_name="Lee",
        credentials="MD",
        specialty="Family medicine",
    )
    provider.locations.add(location)
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start_time=dt.time(9, 0),
        end_time=dt.time(17, 0),
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=15,
        overbook_cap=1,
    )
    return schedule


@pytest.fixture
def follow_up(personas: Personas) -> AppointmentType:
    return AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=30
    )


# --- The waitlist tests (test_waitlist*.py use these; helpers are in waitlist_support.py) -------


@pytest.fixture
def waitlist_clock() -> Iterator[time_machine.Traveller]:
    """The clock stopped at NOW, Monday 23 November 2026 08:00 in New York; `shift` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def offers_at_once() -> int:
    """How many waiting patients a freed time is offered to at once (a module may override)."""
    return 3


@pytest.fixture
def waitlist_offers(settings: Any, offers_at_once: int) -> None:
    """Offers last two hours and their links point at the clinic's public address."""
    settings.WAITLIST_OFFERS_AT_ONCE = offers_at_once
    settings.WAITLIST_OFFER_TTL = dt.timedelta(minutes=120)
    settings.PUBLIC_BASE_URL = "https://clinic.example"


@pytest.fixture
def freed(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> Appointment:
    """Tuesday 24 November 09:00 with Mei Lee at Northside, booked by someone who will cancel."""
    leaver = make_patient(personas.clinic, given_name="Leaver", family_name="Early")
    return book(personas, leaver, schedule, follow_up, at(clinic_tz, 24, 9))
