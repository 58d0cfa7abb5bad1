"""The demo clinic: a synthetic clinic, reproducible from a seed, for trying Frontdesk and for
load tests (`frontdesk demo --patients 1000000`). `demo_load` builds it once and always leaves
a working credentials file.

One seed and one reference date give the same clinic row for row (staff passwords excepted:
those come from `secrets`). The fixed data is in `data.py`, the seeded patients in `people.py`,
the batch writer in `bulk.py`, the staff's passwords and their file in `credentials.py`.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.audit.models import AuditAction, AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, audit_record
from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.demo.bulk import patients_insert, sqlite_cache
from frontdesk.demo.complaints_morning import demo_complaints_morning
from frontdesk.demo.credentials import (
    StaffLogin,
    demo_credentials_reset,
    demo_credentials_write,
    password_new,
)
from frontdesk.demo.data import (
    APPOINTMENT_TYPE_SPECS,
    DEFAULT_PATIENTS,
    DEFAULT_SEED,
    DEMO_STAFF,
    LOCATION_NAMES,
    PAYER_SPECS,
    PROVIDER_SPECS,
)
from frontdesk.demo.documents_morning import demo_documents_morning
from frontdesk.demo.eligibility_morning import demo_eligibility_morning
from frontdesk.demo.people import DemoPools, demo_patient_rows, demo_pools
from frontdesk.demo.schedule import demo_schedule_build
from frontdesk.patients.models import Payer, Sex


class DemoRefusedError(Exception):
    """The demo will not load into this database; the message says why and what to do."""


@dataclass(frozen=True)
class DemoResult:
    clinic: Clinic
    created: bool  # False: the demo was already loaded and nothing was built
    patients: int
    duplicates: tuple[tuple[str, str], ...]  # (original MRN, duplicate MRN) pairs planted
    logins: tuple[StaffLogin, ...]


def demo_clinic_loaded(name: str | None = None) -> Clinic | None:
    """The clinic the demo built, if it is in this database."""
    clinic = Clinic.objects.filter(name=name or settings.CLINIC_NAME).first()
    if clinic is None or not _is_demo_clinic(clinic):
        return None
    return clinic


def _is_demo_clinic(clinic: Clinic) -> bool:
    # The audit event written by the build marks the clinic as the demo's: a real clinic that
    # happens to share CLINIC_NAME is never filled with synthetic patients or has passwords reset.
    return AuditEvent.objects.filter(
        action=AuditAction.SYSTEM,
        object_type=AuditObject.CLINIC,
        object_id=str(clinic.pk),
        detail__has_key="demo_patients",
    ).exists()


def demo_clinic_build(
    *,
    seed: int = DEFAULT_SEED,
    patients: int = DEFAULT_PATIENTS,
    today: dt.date | None = None,
    progress: bool = False,
) -> DemoResult:
    """Build the demo clinic in one transaction, or do nothing if it is already loaded.

    Raises DemoRefusedError if a clinic of that name exists that the demo did not build, or if a
    demo username is taken. `today` anchors ages and visit dates (default: today at the clinic).
    """
    name, tz = settings.CLINIC_NAME, settings.CLINIC_TIME_ZONE
    if today is None:
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).date()
    with transaction.atomic():
        existing = Clinic.objects.filter(name=name).first()
        if existing is not None:
            if _is_demo_clinic(existing):
                return DemoResult(existing, False, existing.patients.count(), (), ())
            raise DemoRefusedError(
                f"A clinic named {name!r} already exists and was not built by the demo; "
                "set CLINIC_NAME to another name or use an empty database."
            )
        taken = sorted(
            User.objects.filter(username__in=[u for _, u in DEMO_STAFF]).values_list(
                "username", flat=True
            )
        )
        if taken:
            raise DemoRefusedError(f"The demo's usernames are taken already: {', '.join(taken)}.")

        pools = demo_pools(seed)
        clinic = Clinic.objects.create(name=name, time_zone=tz)
        setup_rng = random.Random(f"frontdesk-demo:{seed}:setup")
        providers = _setup_create(clinic=clinic, rng=setup_rng, pools=pools)
        logins = _staff_create(clinic=clinic, rng=setup_rng, pools=pools, providers=providers)
        payers = {
            spec.name: Payer.objects.create(
                clinic=clinic,
                name=spec.name,
                payer_id=spec.payer_id,
                member_id_pattern=spec.member_id_pattern,
            ).pk
            for spec in PAYER_SPECS
        }
        rows = demo_patient_rows(seed=seed, count=patients, today=today, pools=pools, tz=tz)
        with sqlite_cache(mebibytes=256):
            duplicates = patients_insert(
                clinic=clinic,
                rows=rows,
                count=patients,
                payers=payers,
                progress=progress,
                money_rng=random.Random(f"frontdesk-demo:{seed}:accounts"),
            )
        appointments = demo_schedule_build(clinic=clinic, seed=seed, today=today)
        demo_complaints_morning(clinic=clinic, now=timezone.now())
        demo_documents_morning(clinic=clinic, now=timezone.now())
        audit_record(
            context=SYSTEM_CONTEXT,
            action=AuditAction.SYSTEM,
            object_type=AuditObject.CLINIC,
            object_id=clinic.pk,
            detail={"demo_patients": patients, "seed": seed, "appointments": appointments},
        )
    return DemoResult(clinic, True, patients, duplicates, logins)


def _setup_create(*, clinic: Clinic, rng: random.Random, pools: DemoPools) -> list[Provider]:
    locations = []
    for location_name in rng.sample(LOCATION_NAMES, 3):
        city, state, postal_code = rng.choice(pools.home_places)
        locations.append(
            Location.objects.create(
                clinic=clinic,
                name=location_name,
                address=(
                    f"{rng.randint(1, 999)} {rng.choice(pools.streets)}, "
                    f"{city}, {state} {postal_code}"
                ),
                phone=f"{rng.choice(pools.phone_prefixes)}{rng.randrange(10_000):04d}",
            )
        )
    providers = []
    for index, spec in enumerate(PROVIDER_SPECS):
        names = pools.female_names if spec.sex == Sex.FEMALE else pools.male_names
        provider = Provider.objects.create(
            clinic=clinic,
            given_name=rng.choice(names),
            family_name=rng.choice(pools.family_names),
            credentials=spec.credentials,
            specialty=spec.specialty,
            npi=_npi(rng),
        )
        # Everyone works at one location; some cover a second.
        home = locations[index % len(locations)]
        worksites = [home]
        if rng.random() < 0.35:
            worksites.append(rng.choice([loc for loc in locations if loc is not home]))
        provider.locations.set(worksites)
        providers.append(provider)
    for type_spec in APPOINTMENT_TYPE_SPECS:
        kind = AppointmentType.objects.create(
            clinic=clinic,
            name=type_spec.name,
            duration_minutes=type_spec.duration_minutes,
            is_new_patient=type_spec.is_new_patient,
            colour=type_spec.colour,
            preparation=type_spec.preparation,
            telehealth=type_spec.telehealth,
        )
        # A cardiology consultation with the cardiologist, a skin check with dermatology or a
        # family doctor: the demo's week looks like a clinic's.
        kind.allowed_providers.set(p for p in providers if p.specialty in type_spec.specialties)
    return providers


def _npi(rng: random.Random) -> str:
    # A National Provider Identifier's check digit is Luhn over "80840" + the first nine digits.
    body = str(rng.randint(100_000_000, 299_999_999))
    return body + luhn.calc_check_digit("80840" + body)


def _staff_create(
    *, clinic: Clinic, rng: random.Random, pools: DemoPools, providers: list[Provider]
) -> tuple[StaffLogin, ...]:
    logins = []
    for role, username in DEMO_STAFF:
        if role == Role.PHYSICIAN:
            # The physician's login belongs to the first family doctor on the provider list.
            first_name, last_name = providers[0].given_name, providers[0].family_name
        else:
            first_name = rng.choice(pools.female_names + pools.male_names)
            last_name = rng.choice(pools.family_names)
        password = password_new()
        staff_create(
            clinic=clinic,
            username=username,
            password=password,
            role=role,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@example.com",
        )
        logins.append(StaffLogin(role.value, username, password))
    return tuple(logins)


@dataclass(frozen=True)
class DemoOutcome:
    result: DemoResult
    credentials: tuple[str, ...]  # the credential file's lines
    credentials_source: str  # "new", "file" (read back) or "reset"


def demo_load(
    *,
    seed: int = DEFAULT_SEED,
    patients: int = DEFAULT_PATIENTS,
    credentials_path: Path,
    today: dt.date | None = None,
    progress: bool = False,
) -> DemoOutcome:
    """What `frontdesk demo` does: build once, and always leave a working credentials file."""
    result = demo_clinic_build(seed=seed, patients=patients, today=today, progress=progress)
    demo_eligibility_morning(clinic=result.clinic)
    if result.created:
        # Written after the commit, so the file never names accounts that were rolled back.
        demo_credentials_write(path=credentials_path, logins=result.logins)
        return DemoOutcome(result, tuple(login.line for login in result.logins), "new")
    if credentials_path.exists():
        lines = tuple(credentials_path.read_text(encoding="utf-8").splitlines())
        return DemoOutcome(result, lines, "file")
    logins = demo_credentials_reset(clinic=result.clinic)
    demo_credentials_write(path=credentials_path, logins=logins)
    return DemoOutcome(result, tuple(login.line for login in logins), "reset")
