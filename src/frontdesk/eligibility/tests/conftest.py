from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.eligibility.models import EligibilityConnection, TransportKind
from frontdesk.eligibility.simulator import Member, Simulator, Table, simulator_server
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule

# Monday 2026-11-23 23:30 in New York is already Tuesday in UTC: the clinic's date differs.
NOW = dt.datetime(2026, 11, 24, 4, 30, tzinfo=dt.UTC)
BIRTH = dt.date(1980, 1, 2)


def members() -> list[Member]:
    return [
        Member("W123456789", "SMITH", "JOHN", "19800102", copay="25.00"),
        Member("W200000002", "JONES", "MARY", "19750505", active=False, plan_end="20251231"),
        Member("W300000003", "BROWN", "ED", "19600606", prior_authorisation=("98",)),
    ]


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """The payer simulator over real HTTP on loopback, in a thread of the test process."""
    sim = Simulator(Table.of(members(), "ACME HEALTH"))
    server = simulator_server(sim, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sim.url = f"http://127.0.0.1:{server.server_address[1]}/core"
    yield sim
    server.shutdown()
    server.server_close()


@pytest.fixture
def connection(personas: Personas, simulator: Simulator) -> EligibilityConnection:
    return EligibilityConnection.objects.create(
        clinic=personas.clinic,
        kind=TransportKind.CORE_SOAP,
        url=simulator.url,
        is_simulator=True,
        sender_id="RIVERSIDE",
        receiver_id="ACMEHEALTH",
        provider_name="Riverside Family Clinic",
        provider_npi="1234567893",
        timeout_seconds=2,
        retries=0,
        concurrency=4,
    )


@pytest.fixture
def payer(personas: Personas) -> Payer:
    return Payer.objects.create(
        clinic=personas.clinic,
        name="Acme Health",
        payer_id="ACME1",
        member_id_pattern=r"W\d{9}",
        member_id_example="W123456789",
    )


MakeCoverage = Callable[..., Coverage]


@pytest.fixture
def make_coverage(personas: Personas, payer: Payer) -> MakeCoverage:
    def make(patient: Patient | None = None, **fields: object) -> Coverage:
        values: dict[str, object] = {
            "rank": 1,
            "member_id": "W123456789",
            "copay": "20.00",
            "effective_date": dt.date(2026, 1, 1),
        }
        values.update(fields)
        return Coverage.objects.create(
            patient=patient or make_patient(personas.clinic, birth_date=BIRTH),
            payer=payer,
            **values,
        )

    return make


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
        clinic=personas.clinic, name="Office visit", duration_minutes=20
    )


MakeAppointment = Callable[..., Appointment]


@pytest.fixture
def make_appointment(
    personas: Personas, schedule: Schedule, visit_type: AppointmentType
) -> MakeAppointment:
    def make(patient: Patient, *, start: dt.datetime) -> Appointment:
        end = start + dt.timedelta(minutes=20)
        return Appointment.objects.create(
            clinic=personas.clinic,
            patient=patient,
            schedule=schedule,
            provider=schedule.provider,
            appointment_type=visit_type,
            start=start,
            end=end,
            busy_start=start,
            busy_end=end,
            status=AppointmentStatus.BOOKED,
            is_overbook=True,
            overbook_reason="test",
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )

    return make
