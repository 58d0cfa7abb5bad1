"""The scratch clinic of bench/booking_race.py: one location, providers with a weekday
schedule on a 15-minute grid, a 15-minute visit, the clients' patients and officers, and
the slots in time then provider order."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import zoneinfo
from dataclasses import dataclass

ZONE_NAME = "America/New_York"
ZONE = zoneinfo.ZoneInfo(ZONE_NAME)
PATIENTS_PER_CLIENT = 250
SLOT = dt.timedelta(minutes=15)
DAY_HOURS = (dt.time(9), dt.time(17))


@dataclass
class Clinic:
    passwords: dict[str, str]  # officer -> password
    patients: list[list[int]]  # per client
    slots: list[tuple[int, dt.datetime]]  # (schedule id, start), in time then provider order
    appointment_type_id: int


def slot_starts(first_day: dt.date, count: int, providers: int) -> list[tuple[int, dt.datetime]]:
    """(provider index, start) for the first `count` slots from `first_day`, weekdays only."""
    slots: list[tuple[int, dt.datetime]] = []
    day = first_day
    while len(slots) < count:
        if day.weekday() < 5:
            t = dt.datetime.combine(day, DAY_HOURS[0], tzinfo=ZONE)
            end = dt.datetime.combine(day, DAY_HOURS[1], tzinfo=ZONE)
            while t + SLOT <= end and len(slots) < count:
                slots.extend((p, t.astimezone(dt.UTC)) for p in range(providers))
                t += SLOT
        day += dt.timedelta(days=1)
    return slots[:count]


def clinic_build(*, clients: int, providers: int, slot_count: int, rng: random.Random) -> Clinic:
    from django.db import transaction
    from django.utils import timezone

    from frontdesk.accounts.roles import Role
    from frontdesk.accounts.services import staff_create
    from frontdesk.clinic.models import AppointmentType, Location, Provider
    from frontdesk.clinic.models import Clinic as ClinicModel
    from frontdesk.patients.indexing import patient_derive_fields
    from frontdesk.patients.models import Patient
    from frontdesk.patients.mrn import mrn_reserve
    from frontdesk.scheduling.models import Schedule, ScheduleTemplate

    clinic = ClinicModel.objects.create(name="Race Clinic", time_zone=ZONE_NAME)
    location = Location.objects.create(clinic=clinic, name="Main Street")
    families = ["Lee", "Patel", "Garcia", "Kim", "Nguyen", "Smith", "Cohen", "Okafor", "Rossi"]
    given = ["Mei", "Ravi", "Ana", "Min", "Linh", "Jo", "Dana", "Chidi", "Luca", "Eva", "Rui"]
    schedules = []
    for n in range(providers):
        provider = Provider.objects.create(
            clinic=clinic,
            given_name=rng.choice(given),
            family_name=f"{rng.choice(families)}{n:02d}",
            credentials="MD",
            specialty="Family medicine",
        )
        provider.locations.add(location)
        schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
        ScheduleTemplate.objects.create(
            schedule=schedule,
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            start_time=DAY_HOURS[0],
            end_time=DAY_HOURS[1],
            valid_from=dt.date(2024, 1, 1),
            slot_minutes=15,
            overbook_cap=1,
        )
        schedules.append(schedule.pk)
    kind = AppointmentType.objects.create(clinic=clinic, name="Follow-up", duration_minutes=15)

    now = timezone.now()
    with transaction.atomic():
        mrns = mrn_reserve(clients * PATIENTS_PER_CLIENT)
    patients = Patient.objects.bulk_create(
        [
            patient_derive_fields(
                Patient(
                    clinic=clinic,
                    mrn=mrn,
                    given_name=rng.choice(given),
                    family_name=rng.choice(families),
                    birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000)),
                    sex=rng.choice(["male", "female"]),
                    phone=f"+1202555{rng.randrange(10_000):04d}",
                    created_at=now,
                    updated_at=now,
                )
            )
            for mrn in mrns
        ]
    )
    ids = [p.pk for p in patients]
    pools = [ids[n * PATIENTS_PER_CLIENT : (n + 1) * PATIENTS_PER_CLIENT] for n in range(clients)]

    passwords = {}
    for n in range(clients):
        password = secrets.token_urlsafe(18)
        staff_create(
            clinic=clinic,
            username=f"desk{n + 1}",
            password=password,
            role=Role.FRONT_DESK,
            first_name=f"Desk {n + 1}",
        )
        passwords[f"desk{n + 1}"] = password

    # The day after tomorrow: every slot is in the future and no cancellation is a late one.
    first_day = timezone.localdate(now, ZONE) + dt.timedelta(days=2)
    slots = [(schedules[p], start) for p, start in slot_starts(first_day, slot_count, providers)]
    return Clinic(passwords, pools, slots, kind.pk)
