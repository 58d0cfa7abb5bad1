from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings

from conftest import Personas
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.scheduling.models import Schedule, ScheduleTemplate


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
