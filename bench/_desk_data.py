"""The desk-queue bench's scratch clinic: officers, pools, patients and about 20,000 open items
of every kind the desk shows, derived (unconfirmed visits, walk-ins) and stored (callbacks,
answers to relay, questions, grievances). Used by `bench/desk_queue.py`."""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import zoneinfo
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

CLINIC_NAME = "Bench Desk Clinic"
ZONE = "America/New_York"
PASSWORD = "bench desk officer password 1"  # noqa: S105 (a scratch database)


def window_end(now: dt.datetime) -> dt.datetime:
    """The end of the second business day after today in the clinic's zone (the bench clinic
    has no holidays): written here from the rule, not from scheduling's code."""
    zone = zoneinfo.ZoneInfo(ZONE)
    day = now.astimezone(zone).date()
    found = 0
    while found < 2:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            found += 1
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(dt.UTC)


def build(items: int, officers: int, walk_ins: int, seed: int) -> float:
    """The bench clinic and its open work; returns the seconds it took."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from frontdesk.accounts.models import User
    from frontdesk.accounts.roles import Role
    from frontdesk.audit.services import SYSTEM_CONTEXT
    from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
    from frontdesk.desk.models import DeskItem
    from frontdesk.flow import services as flow_services
    from frontdesk.flow.models import Priority, QueueEntry
    from frontdesk.patients.indexing import patient_derive_fields
    from frontdesk.patients.models import Patient
    from frontdesk.patients.mrn import mrn_reserve
    from frontdesk.scheduling.models import Appointment, Schedule

    started = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now()
    clinic = Clinic.objects.create(name=CLINIC_NAME, time_zone=ZONE)
    hashed = make_password(PASSWORD)
    staff = [
        User(
            clinic=clinic,
            username=f"desk{n:02d}",
            first_name="Officer",
            last_name=f"{n:02d}",
            role=Role.FRONT_DESK,
            password=hashed,
        )
        for n in range(1, officers + 1)
    ]
    staff += [
        User(
            clinic=clinic,
            username=f"sup{n}",
            first_name="Supervisor",
            last_name=str(n),
            role=Role.SUPERVISOR,
            password=hashed,
        )
        for n in (1, 2)
    ]
    User.objects.bulk_create(staff)
    desk = list(User.objects.filter(clinic=clinic, role=Role.FRONT_DESK).order_by("username"))
    location = Location.objects.create(clinic=clinic, name="Main")
    visit = AppointmentType.objects.create(clinic=clinic, name="Follow-up", duration_minutes=10)
    # A realistic mix of stored and derived work: the rest of the items are appointments to
    # confirm (walk-ins are each a registration to complete, and half of them waiting past red).
    stored = {
        "callbacks": items * 15 // 100,
        "answers": items * 4 // 100,
        "questions": items * 5 // 100,
        "complaints": items // 100,
    }
    appointments = items - sum(stored.values()) - walk_ins - walk_ins // 2
    providers = max(1, appointments // 100)
    schedules = []
    for n in range(providers):
        provider = Provider.objects.create(
            clinic=clinic, given_name="Pat", family_name=f"Provider{n:03d}", credentials="MD"
        )
        schedules.append(
            Schedule.objects.create(clinic=clinic, provider=provider, location=location)
        )
    syllables = ["ka", "lo", "mi", "ra", "ten", "vo", "sul", "dar", "en", "bri", "co", "fe"]

    def name(k: int) -> str:
        parts = []
        for _ in range(3):
            k, r = divmod(k, len(syllables))
            parts.append(syllables[r])
        return "".join(parts).capitalize() + syllables[rng.randrange(len(syllables))]

    with transaction.atomic():
        mrns = mrn_reserve(appointments)
    patients = [
        patient_derive_fields(
            Patient(
                clinic=clinic,
                mrn=mrns[n],
                given_name=name(n + 7),
                family_name=name(n),
                birth_date=dt.date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                sex="female" if n % 2 else "male",
                phone=f"+1202555{n % 10000:04d}",
                created_at=now,
                updated_at=now,
            )
        )
        for n in range(appointments)
    ]
    Patient.objects.bulk_create(patients, batch_size=2000)
    patient_ids = list(Patient.objects.filter(clinic=clinic).values_list("pk", flat=True))
    first = now + dt.timedelta(minutes=40)
    last = window_end(now) - dt.timedelta(minutes=20)
    per_provider = -(-appointments // providers)
    step = (last - first) / per_provider
    made = []
    for n in range(appointments):
        where = schedules[n % providers]
        start = first + step * (n // providers)
        start = start.replace(second=0, microsecond=0)
        made.append(
            Appointment(
                clinic=clinic,
                patient_id=patient_ids[n],
                schedule=where,
                provider_id=where.provider_id,
                appointment_type=visit,
                start=start,
                end=start + dt.timedelta(minutes=10),
                busy_start=start,
                busy_end=start + dt.timedelta(minutes=10),
                created_at=now - dt.timedelta(minutes=rng.randrange(60, 60 * 24 * 30)),
                updated_at=now,
            )
        )
    Appointment.objects.bulk_create(made, batch_size=2000)
    # Walk-ins through the real service: a registration to complete, a patient waiting.
    for n in range(walk_ins):
        emergency = n % 40 == 0
        flow_services.walk_in_register(
            context=SYSTEM_CONTEXT,
            user=desk[n % len(desk)],
            clinic=clinic,
            given_name=name(n + 3),
            family_name=f"Walk{name(n + 100000)}",
            birth_date=dt.date(1970 + n % 40, 1 + n % 12, 1 + n % 28),
            priority=Priority.EMERGENCY if emergency else Priority.NORMAL,
            priority_reason="chest pain" if emergency else "",
        )
    # Half of them have waited past the red threshold; the rest checked in a moment ago.
    entries = list(QueueEntry.objects.filter(clinic=clinic).order_by("pk"))
    for n, entry in enumerate(entries):
        minutes = 45 + n % 60 if n % 2 == 0 else 5
        entry.status_changed_at = entry.checked_in_at = now - dt.timedelta(minutes=minutes)
    QueueEntry.objects.bulk_update(entries, ["status_changed_at", "checked_in_at"])
    # The desk's own state, as the services leave it.
    supervisors = list(User.objects.filter(clinic=clinic, role=Role.SUPERVISOR))
    state = []
    for appointment in Appointment.objects.filter(clinic=clinic).values_list("pk", flat=True):
        roll = rng.random()
        item = DeskItem(clinic=clinic, kind="unconfirmed", ref=appointment, updated_at=now)
        if roll < 0.30:
            item.claimed_by = desk[rng.randrange(len(desk))]
            item.claimed_at = now - dt.timedelta(minutes=rng.randrange(1, 300))
        elif roll < 0.36:
            item.handed_to_pool = "desk"
            item.handed_at, item.handed_by = now, desk[0]
        elif roll < 0.40:
            item.handed_to_pool = "supervisors"
            item.handed_at, item.handed_by = now, desk[1]
        elif roll < 0.45:
            item.handed_to = rng.choice(desk + supervisors)
            item.handed_at, item.handed_by = now, desk[2]
        elif roll < 0.48:
            item.snoozed_until = now + dt.timedelta(hours=rng.randrange(2, 48))
            item.snooze_reason = "Patient asked us to call later"
        else:
            continue
        state.append(item)
    DeskItem.objects.bulk_create(state, batch_size=2000)
    stored_work(clinic, desk, supervisors, patient_ids, now, rng, stored)
    return time.monotonic() - started


def stored_work(
    clinic: Any,
    desk: list[Any],
    supervisors: list[Any],
    patient_ids: list[int],
    now: dt.datetime,
    rng: random.Random,
    stored: dict[str, int],
) -> None:
    """The work with a life of its own, as the services leave it: callbacks still owed (a few
    past the clinic's maximum attempts, with the supervisors), clinicians' answers for the desk
    to relay, questions still with nurse triage, and grievances open with the supervisors."""
    from frontdesk.complaints.models import Complaint, ComplaintStatus
    from frontdesk.inquiries.models import (
        AnswerRoute,
        Callback,
        CallerKind,
        Category,
        Disclosure,
        Inquiry,
        MedicalQuestion,
        TaskPriority,
        TaskStatus,
    )

    def inquiries(count: int, category: str) -> list[Inquiry]:
        made = [
            Inquiry(
                clinic=clinic,
                patient_id=rng.choice(patient_ids),
                caller_kind=CallerKind.PATIENT,
                disclosure=Disclosure.EVERYTHING,
                category=category,
                message="Please call me back about my visit.",
                callback_phone="+12025550100",
                created_by=desk[rng.randrange(len(desk))],
                created_at=now - dt.timedelta(minutes=rng.randrange(5, 600)),
            )
            for _ in range(count)
        ]
        return Inquiry.objects.bulk_create(made, batch_size=2000)

    calls = inquiries(stored["callbacks"], Category.BILLING)
    callbacks = []
    for inquiry in calls:
        spent = rng.random() < 0.05
        callbacks.append(
            Callback(
                clinic=clinic,
                inquiry=inquiry,
                patient_id=inquiry.patient_id,
                status=TaskStatus.IN_PROGRESS if rng.random() < 0.4 else TaskStatus.REQUESTED,
                priority=TaskPriority.URGENT if rng.random() < 0.2 else TaskPriority.ROUTINE,
                pool="supervisors" if spent else "desk",
                phone="+12025550100",
                preferred_time="after 2 pm" if rng.random() < 0.3 else "",
                due=now + dt.timedelta(minutes=rng.randrange(-180, 480)),
                attempts=3 if spent else rng.randrange(0, 3),
                created_at=inquiry.created_at,
            )
        )
    Callback.objects.bulk_create(callbacks, batch_size=2000)
    asked = inquiries(stored["answers"] + stored["questions"], Category.MEDICAL_QUESTION)
    questions = []
    for n, inquiry in enumerate(asked):
        answered = n < stored["answers"]
        red = rng.random() < 0.02
        question = MedicalQuestion(
            clinic=clinic,
            patient_id=inquiry.patient_id,
            inquiry=inquiry,
            question="Is it normal to feel dizzy after the new tablets?",
            status=TaskStatus.REQUESTED,
            priority=TaskPriority.STAT if red else TaskPriority.ROUTINE,
            red_flag=red,
            red_flag_phrases=["chest pain"] if red else [],
            pool="nurse_triage",
            routed_to="Nurse triage",
            due=inquiry.created_at + dt.timedelta(hours=rng.randrange(1, 24)),
            created_by=inquiry.created_by,
            created_at=inquiry.created_at,
        )
        if answered:
            question.status = TaskStatus.IN_PROGRESS
            question.answer = "Yes, for the first week; call us if it lasts."
            question.answer_route = AnswerRoute.DESK
            question.answered_at = now - dt.timedelta(minutes=rng.randrange(1, 180))
        questions.append(question)
    MedicalQuestion.objects.bulk_create(questions, batch_size=2000)
    complaints = []
    for n in range(stored["complaints"]):
        created = now - dt.timedelta(hours=rng.randrange(1, 24 * 6))
        acknowledged = n % 2 == 1
        complaints.append(
            Complaint(
                clinic=clinic,
                patient_id=rng.choice(patient_ids),
                logged_by=desk[n % len(desk)],
                created_at=created,
                occurred_on=created.date(),
                category="waiting",
                severity="medium",
                what_happened="Waited an hour past the appointment time.",
                status=(
                    ComplaintStatus.ACKNOWLEDGED
                    if acknowledged
                    else ComplaintStatus.AWAITING_ACKNOWLEDGEMENT
                ),
                owner=supervisors[n % len(supervisors)],
                acknowledge_due=created + dt.timedelta(days=2),
                acknowledged_at=created + dt.timedelta(hours=4) if acknowledged else None,
                response_due=created + dt.timedelta(days=7),
            )
        )
    Complaint.objects.bulk_create(complaints, batch_size=2000)


# ---------------------------------------------------------------------------------------------
# The raw SQL side and the independent order
