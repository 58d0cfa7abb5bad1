from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from django.contrib.auth.password_validation import validate_password

from conftest import kept_for_module
from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.demo.credentials import StaffLogin, demo_credentials_write
from frontdesk.demo.data import EMAIL_DOMAINS, NICKNAMES, PAYER_SPECS
from frontdesk.demo.people import PatientRow, demo_patient_rows, demo_pools
from frontdesk.demo.services import DemoOutcome, demo_load
from frontdesk.patients.duplicates import duplicate_candidates, person_record_from_patient
from frontdesk.patients.indexing import patient_derive_fields
from frontdesk.patients.models import Coverage, FamilyName, Patient, Payer
from frontdesk.patients.mrn import mrn_is_valid
from frontdesk.patients.selectors import patient_search
from frontdesk.patients.validation import (
    clean_birth_date,
    clean_member_id,
    clean_person_name,
    clean_phone,
    clean_postal_code,
    validate_regex,
)

SEED = 7
PATIENTS = 300
TODAY = dt.date(2025, 6, 15)
ROLES = {"front_desk", "nurse", "physician", "billing", "supervisor", "admin"}
E164 = re.compile(r"^\+1[2-9]\d{9}$")


@dataclass(frozen=True)
class Built:
    outcome: DemoOutcome
    credentials_path: Path


@pytest.fixture(scope="module")
def built(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """The demo clinic, built once for this module: building its 300 patients takes seconds,
    and the tests only look at it or change it inside their own transaction, rolled back after
    each. (The command's tests, which need an empty database, are in test_demo_command.py.)"""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "var" / "demo-credentials.txt"

    def build() -> Built:
        outcome = demo_load(seed=SEED, patients=PATIENTS, credentials_path=path, today=TODAY)
        return Built(outcome, path)

    yield from kept_for_module(django_db_blocker, build, MEDIA_ROOT=folder / "media")


@pytest.fixture
def demo(db: None, built: Built) -> DemoOutcome:
    return built.outcome


@pytest.fixture
def credentials_path(built: Built, tmp_path: Path) -> Path:
    """A copy of the built demo's credentials file (its mode kept), for a test to change."""
    copy = tmp_path / "var" / "demo-credentials.txt"
    copy.parent.mkdir()
    shutil.copy2(built.credentials_path, copy)
    return copy


def _logins(lines: tuple[str, ...] | list[str]) -> dict[str, StaffLogin]:
    logins = [StaffLogin(*line.split(" ")) for line in lines]
    return {login.username: login for login in logins}


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _same_person(a: Patient, b: Patient) -> bool:
    """What a matcher would notice: same or day/month-swapped birth date, similar names."""
    dates = {a.birth_date}
    if a.birth_date.day <= 12:
        dates.add(a.birth_date.replace(month=a.birth_date.day, day=a.birth_date.month))
    given_a, given_b = a.given_name, b.given_name
    given_alike = (
        given_a == given_b
        or given_b in NICKNAMES.get(given_a, ())
        or given_a in NICKNAMES.get(given_b, ())
    )
    return (
        b.birth_date in dates
        and a.sex == b.sex
        and given_alike
        and _edit_distance(a.family_name.lower(), b.family_name.lower()) <= 2
    )


@pytest.mark.django_db
def test_it_builds_the_clinic_locations_providers_and_appointment_types(
    demo: DemoOutcome, settings: Any
) -> None:
    clinic = Clinic.objects.get()
    assert (clinic.name, clinic.time_zone) == (settings.CLINIC_NAME, settings.CLINIC_TIME_ZONE)
    assert Location.objects.filter(clinic=clinic).count() == 3
    providers = Provider.objects.filter(clinic=clinic).prefetch_related("locations")
    assert len(providers) == 12
    assert {"Family medicine", "Pediatrics", "Cardiology", "Dermatology"} <= {
        p.specialty for p in providers
    }
    assert all(p.credentials and len(p.npi) == 10 and p.locations.exists() for p in providers)
    types = {t.name: t for t in AppointmentType.objects.filter(clinic=clinic)}
    assert len(types) >= 10
    assert types["New patient visit"].duration_minutes == 40
    assert types["New patient visit"].is_new_patient
    assert types["Follow-up visit"].duration_minutes == 20
    assert types["Telehealth follow-up"].telehealth
    assert "Annual physical" in types


@pytest.mark.django_db
def test_it_creates_a_working_sign_in_for_every_role(demo: DemoOutcome) -> None:
    logins = _logins(demo.credentials)
    assert {login.role for login in logins.values()} == ROLES
    assert set(logins) == {"frontdesk", "nurse", "physician", "billing", "supervisor", "admin"}
    for user in User.objects.filter(username__in=logins):
        login = logins[user.username]
        assert user.role == login.role
        assert user.clinic is not None and user.clinic.name == demo.result.clinic.name
        assert user.check_password(login.password)
        validate_password(login.password, user)
    assert Role.values == sorted(ROLES, key=Role.values.index)


@pytest.mark.django_db
def test_it_writes_the_credentials_file_for_its_owner_only(demo: DemoOutcome, built: Built) -> None:
    assert stat.S_IMODE(built.credentials_path.stat().st_mode) == 0o600
    lines = built.credentials_path.read_text().splitlines()
    assert tuple(lines) == demo.credentials
    assert all(re.fullmatch(r"[a-z_]+ [a-z]+ \S{12,}", line) for line in lines)
    assert {line.split()[0] for line in lines} == ROLES


def test_it_narrows_an_existing_credentials_file_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "demo-credentials.txt"
    path.write_text("stale\n")
    path.chmod(0o644)
    demo_credentials_write(path=path, logins=[StaffLogin("nurse", "nurse", "x" * 16)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f"nurse nurse {'x' * 16}\n"


@pytest.mark.django_db
def test_it_registers_plausible_patients(demo: DemoOutcome) -> None:
    patients = list(Patient.objects.all())
    assert len(patients) == PATIENTS
    assert all(mrn_is_valid(p.mrn) for p in patients)
    for p in patients:
        age = (TODAY - p.birth_date).days / 365.25
        assert 0 <= age < 96
        assert p.given_name and p.family_name
        assert p.created_at.utcoffset() == dt.timedelta(0)
        assert p.birth_date <= p.created_at.date() < TODAY
        assert p.created_at <= p.updated_at < dt.datetime(2025, 6, 15, tzinfo=dt.UTC)
        assert p.last_visit_on is None or p.last_visit_on < TODAY
        assert not p.email or p.email.rsplit("@", 1)[1] in EMAIL_DOMAINS
        assert not p.address_line1 or (p.city and len(p.state) == 2 and p.postal_code)
    sexes = Counter(p.sex for p in patients)
    assert sexes["female"] > 100 and sexes["male"] > 100
    assert any(p.last_visit_on for p in patients)
    assert any(p.birth_date > dt.date(2015, 1, 1) for p in patients)  # children
    assert any(p.birth_date < dt.date(1950, 1, 1) for p in patients)  # the very old


@pytest.mark.django_db
def test_it_gives_phone_numbers_that_phonenumbers_accepts(demo: DemoOutcome) -> None:
    phones = [p.phone for p in Patient.objects.all()] + [
        loc.phone for loc in Location.objects.all()
    ]
    assert sum(1 for phone in phones if phone) >= 0.85 * len(phones)
    for phone in filter(None, phones):
        assert E164.match(phone), phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone


@pytest.mark.django_db
def test_it_insures_most_patients_with_member_ids_their_payer_accepts(
    demo: DemoOutcome,
) -> None:
    payers = {payer.pk: payer for payer in Payer.objects.all()}
    assert {payer.name for payer in payers.values()} == {spec.name for spec in PAYER_SPECS}
    coverages = list(Coverage.objects.all())
    insured = {c.patient_id for c in coverages}
    assert 0.78 * PATIENTS <= len(insured) <= 0.92 * PATIENTS
    assert insured == {c.patient_id for c in coverages if c.rank == 1}
    assert any(c.rank == 2 for c in coverages)
    for coverage in coverages:
        pattern = payers[coverage.payer_id].member_id_pattern
        assert re.fullmatch(pattern, coverage.member_id), (pattern, coverage.member_id)


@pytest.mark.django_db
def test_it_plants_about_three_percent_near_duplicates(demo: DemoOutcome) -> None:
    planted = demo.result.duplicates
    assert 0.02 * PATIENTS <= len(planted) <= 0.04 * PATIENTS
    by_mrn = {p.mrn: p for p in Patient.objects.all()}
    for original_mrn, duplicate_mrn in planted:
        original, duplicate = by_mrn[original_mrn], by_mrn[duplicate_mrn]
        assert original_mrn != duplicate_mrn
        assert _same_person(original, duplicate), (original, duplicate)
        assert (original.given_name, original.family_name, original.birth_date) != (
            duplicate.given_name,
            duplicate.family_name,
            duplicate.birth_date,
        )
    # A matcher looking at every pair finds the planted ones, and little else.
    patients = sorted(by_mrn.values(), key=lambda p: p.mrn)
    found = {
        (a.mrn, b.mrn)
        for i, a in enumerate(patients)
        for b in patients[i + 1 :]
        if _same_person(a, b) or _same_person(b, a)
    }
    assert set(planted) <= found
    assert len(found) <= len(planted) + 3


@pytest.mark.django_db
def test_its_patients_pass_the_registration_field_rules(demo: DemoOutcome) -> None:
    # An officer editing a demo record must not meet errors the data itself caused.
    for p in Patient.objects.all():
        for name in (p.given_name, p.middle_name, p.family_name, p.preferred_name):
            assert clean_person_name(name, label="Name") == name
        assert clean_birth_date(p.birth_date, today=TODAY) == p.birth_date
        assert clean_phone(p.phone, region="US") == p.phone
        assert clean_postal_code(p.postal_code, country=p.country) == p.postal_code
    for c in Coverage.objects.select_related("payer"):
        validate_regex(c.payer.member_id_pattern)
        assert (
            clean_member_id(c.member_id, pattern=c.payer.member_id_pattern, payer_name="")
            == c.member_id
        )


@pytest.mark.django_db
def test_it_fills_the_search_columns_so_its_patients_can_be_found(demo: DemoOutcome) -> None:
    derived = ("family_norm", "given_norm", "preferred_norm", "family_key", "given_key")
    patients = list(Patient.objects.order_by("pk"))
    for p in patients:
        again = patient_derive_fields(
            Patient(
                family_name=p.family_name,
                given_name=p.given_name,
                preferred_name=p.preferred_name,
                phone=p.phone,
            )
        )
        assert [getattr(p, f) for f in (*derived, "phone_last4")] == [
            getattr(again, f) for f in (*derived, "phone_last4")
        ]
    assert {p.family_norm for p in patients} <= set(
        FamilyName.objects.values_list("name", flat=True)
    )
    officer = User.objects.get(username="frontdesk")
    for p in patients[:: PATIENTS // 5]:
        _, found = patient_search(officer, f"{p.family_name}, {p.given_name}")
        assert p in found


@pytest.mark.django_db
def test_the_registration_duplicate_check_warns_about_each_planted_duplicate(
    demo: DemoOutcome,
) -> None:
    # Some planted pairs are hard on purpose (a nickname, and since then a new phone and a
    # move): at 20,000 patients the check missed 13 of 600. Most must be caught.
    by_mrn = {p.mrn: p for p in Patient.objects.all()}
    caught = 0
    for original_mrn, duplicate_mrn in demo.result.duplicates:
        duplicate = by_mrn[duplicate_mrn]
        candidates = duplicate_candidates(
            clinic_id=duplicate.clinic_id,
            record=person_record_from_patient(duplicate),
            exclude_ids=[duplicate.pk],
        )
        caught += original_mrn in [c.patient.mrn for c in candidates]
    assert caught >= 0.8 * len(demo.result.duplicates)


def _stored_rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for p in Patient.objects.order_by("pk").prefetch_related("coverages__payer"):
        coverages = tuple(
            (c.payer.name, c.rank, c.plan_name, c.member_id, c.relationship, c.effective_date)
            for c in p.coverages.all()
        )
        rows.append((p.given_name, p.family_name, p.birth_date, p.phone, p.created_at, coverages))
    return rows


def _generated_rows(rows: list[PatientRow]) -> list[tuple[object, ...]]:
    generated: list[tuple[object, ...]] = [
        (
            r.given_name,
            r.family_name,
            r.birth_date,
            r.phone,
            r.created_at,
            tuple(
                (c.payer, c.rank, c.plan_name, c.member_id, c.relationship, c.effective_date)
                for c in r.coverages
            ),
        )
        for r in rows
    ]
    return generated


@pytest.mark.django_db
def test_it_builds_the_same_clinic_from_the_same_seed(demo: DemoOutcome, settings: Any) -> None:
    # Two builds cannot share one database, so the generator is run twice and the stored
    # clinic is compared with it: same seed, same rows, and the database holds exactly those.
    def generate(seed: int) -> list[PatientRow]:
        return list(
            demo_patient_rows(seed=seed, count=PATIENTS, today=TODAY, tz=settings.CLINIC_TIME_ZONE)
        )

    first, again = generate(SEED), generate(SEED)
    assert first == again
    assert _stored_rows() == _generated_rows(first)
    assert generate(SEED + 1) != first
    # The pools are cached per seed; a fresh Faker run must give the cached ones again.
    assert demo_pools.__wrapped__(SEED) == demo_pools(SEED)


_MORNING_OBJECTS = ("complaint", "privacy_review", "supply_item")


@pytest.mark.django_db
def test_it_writes_one_audit_event_for_the_whole_build(demo: DemoOutcome) -> None:
    # One event for the clinic and its patients; the morning's complaints and supplies are
    # logged through their services, each with its own event (demo/complaints_morning.py).
    (event,) = AuditEvent.objects.exclude(object_type__in=_MORNING_OBJECTS)
    assert event.action == AuditAction.SYSTEM
    assert event.detail["demo_patients"] == PATIENTS and event.detail["seed"] == SEED
    assert event.object_id == str(demo.result.clinic.pk)


@pytest.mark.django_db
def test_it_does_nothing_when_the_demo_is_already_loaded(
    demo: DemoOutcome, credentials_path: Path
) -> None:
    counts = (Patient.objects.count(), Coverage.objects.count(), User.objects.count())
    again = demo_load(seed=SEED + 1, patients=50, credentials_path=credentials_path, today=TODAY)
    assert not again.result.created
    assert again.credentials_source == "file"
    assert again.credentials == demo.credentials
    assert (Patient.objects.count(), Coverage.objects.count(), User.objects.count()) == counts
    assert AuditEvent.objects.exclude(object_type__in=_MORNING_OBJECTS).count() == 1


@pytest.mark.django_db
def test_it_resets_the_passwords_when_the_credentials_file_is_lost(
    demo: DemoOutcome, credentials_path: Path
) -> None:
    before = _logins(demo.credentials)
    credentials_path.unlink()
    again = demo_load(seed=SEED, patients=PATIENTS, credentials_path=credentials_path)
    assert again.credentials_source == "reset"
    after = _logins(again.credentials)
    assert set(after) == set(before)
    assert stat.S_IMODE(credentials_path.stat().st_mode) == 0o600
    assert tuple(credentials_path.read_text().splitlines()) == again.credentials
    for user in User.objects.filter(username__in=after):
        assert user.check_password(after[user.username].password)
        assert not user.check_password(before[user.username].password)
    assert Patient.objects.count() == PATIENTS
    assert AuditEvent.objects.filter(detail__has_key="demo_credentials_reset").count() == 1


def test_each_provider_sees_only_the_visits_of_their_specialty(demo: DemoOutcome) -> None:
    from frontdesk.scheduling.models import Appointment

    booked = set(
        Appointment.objects.filter(clinic=demo.result.clinic).values_list(
            "provider__specialty", "appointment_type__name"
        )
    )
    kinds_of = {
        specialty: {name for s, name in booked if s == specialty} for specialty, _ in booked
    }
    assert {s for s, name in booked if name == "Cardiology consultation"} == {"Cardiology"}
    assert kinds_of["Physical therapy"] == {
        "Physical therapy evaluation",
        "Physical therapy session",
    }
    assert "Well-child check" in kinds_of["Pediatrics"]
    assert "Skin check" in kinds_of["Dermatology"]
    assert not {"Skin check", "Well-child check"} & kinds_of["Cardiology"]
    # And the week offers each provider only their own kinds of visit.
    for kind in AppointmentType.objects.filter(clinic=demo.result.clinic):
        assert kind.allowed_providers.exists(), kind.name


def test_it_books_a_realistic_schedule_without_double_bookings(demo: DemoOutcome) -> None:
    from django.db.models import Count

    from frontdesk.scheduling.models import Appointment, Schedule

    clinic = demo.result.clinic
    assert Schedule.objects.filter(clinic=clinic).count() == 12
    per_provider = list(
        Appointment.objects.filter(clinic=clinic).values("provider").annotate(n=Count("id"))
    )
    assert len(per_provider) == 12 and all(row["n"] > 100 for row in per_provider)
    # The database's no-double-booking rule accepted every row; check it independently too.
    rows = list(
        Appointment.objects.filter(clinic=clinic)
        .order_by("provider_id", "busy_start")
        .values_list("provider_id", "busy_start", "busy_end")
    )
    for (p1, _s1, e1), (p2, s2, _e2) in itertools.pairwise(rows):
        assert p1 != p2 or e1 <= s2


def test_todays_book_has_patients_in_every_state() -> None:
    import random

    from frontdesk.demo.schedule import _status_now

    rng = random.Random(1)
    now = dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    seen = {_status_now(rng, now - 3 * hour, now - 2.5 * hour, now) for _ in range(200)}
    assert seen == {"fulfilled", "noshow"}
    current = {_status_now(rng, now - hour / 4, now + hour / 4, now) for _ in range(50)}
    assert {"arrived", "checked-in"} <= current
    assert _status_now(rng, now + 5 * hour, now + 6 * hour, now) == "booked"
