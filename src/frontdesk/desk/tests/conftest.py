from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule

# Monday 10:00 in New York (the clinic's zone), 15:00 UTC.
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    clinic = personas.clinic
    if clinic.time_zone != "America/New_York":
        clinic.time_zone = "America/New_York"
        clinic.save()
    location = Location.objects.create(clinic=clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=clinic, given_name="Mei", family_name="Lee", credentials="MD"
    )
    provider.locations.add(location)
    return Schedule.objects.create(clinic=clinic, provider=provider, location=location)


MakeAppointment = Callable[..., Appointment]


@pytest.fixture
def make_appointment(personas: Personas, schedule: Schedule) -> MakeAppointment:
    visit = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )

    def make(
        patient: Patient | None = None,
        *,
        start: dt.datetime | None = None,
        status: str = AppointmentStatus.BOOKED,
        created: dt.datetime | None = None,
    ) -> Appointment:
        start = start or timezone.now() + dt.timedelta(hours=3)
        end = start + dt.timedelta(minutes=visit.duration_minutes)
        return Appointment.objects.create(
            clinic=personas.clinic,
            patient=patient or make_patient(personas.clinic),
            schedule=schedule,
            provider=schedule.provider,
            appointment_type=visit,
            start=start,
            end=end,
            busy_start=start,
            busy_end=end,
            status=status,
            is_overbook=True,  # the point is the desk queue, not the schedule
            overbook_reason="test",
            created_at=created or timezone.now() - dt.timedelta(days=3),
            updated_at=timezone.now(),
        )

    return make
