from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.utils import timezone

from conftest import Personas, make_patient, open_drawer
from frontdesk.billing.models import CashDrawer
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk_drawer(request: pytest.FixtureRequest, frozen: time_machine.Traveller) -> CashDrawer:
    """The desk officer's cash drawer, open for the frozen day: payments need one. In a test
    that commits, the fixtures that put the append-only triggers back come first, so that they
    do so after the database is emptied (see `transactional_audit`)."""
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("audit_triggers_restored")
    personas: Personas = request.getfixturevalue("personas")
    return open_drawer(personas.front_desk)


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
    return Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)


@pytest.fixture
def visit_type(personas: Personas) -> AppointmentType:
    return AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )


MakeAppointment = Callable[..., Appointment]


@pytest.fixture
def make_appointment(
    personas: Personas, schedule: Schedule, visit_type: AppointmentType
) -> MakeAppointment:
    def make(
        patient: Patient | None = None,
        *,
        start: dt.datetime | None = None,
        status: str = AppointmentStatus.BOOKED,
        schedule_: Schedule | None = None,
    ) -> Appointment:
        start = start or timezone.now() + dt.timedelta(minutes=15)
        where = schedule_ or schedule
        end = start + dt.timedelta(minutes=visit_type.duration_minutes)
        return Appointment.objects.create(
            clinic=personas.clinic,
            patient=patient or make_patient(personas.clinic),
            schedule=where,
            provider=where.provider,
            appointment_type=visit_type,
            start=start,
            end=end,
            busy_start=start,
            busy_end=end,
            status=status,
            is_overbook=True,  # several tests book the same minute; the point is the queue
            overbook_reason="test",
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )

    return make
