"""A morning of calls at the demo clinic, so the desk queue is never empty on `make run`:
callbacks owed (one with the supervisors after three attempts), medical questions waiting in
nurse triage, a red-flag question a nurse already answered by calling the patient, an answer
waiting for the desk to relay, a complaint call, and contacts on a few patients (the mother of
a child, a power of attorney, a carer whose permission ended).

Made through the services, as staff would (audited, on the desk queue), once a day: a day that
already has calls (in the last 12 hours) is left alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext
from frontdesk.clinic.models import Clinic
from frontdesk.inquiries.models import Inquiry, MedicalQuestion, UsualProvider
from frontdesk.inquiries.services import (
    CallRequest,
    ContactValues,
    callback_attempt_log,
    contact_save,
    inquiry_log,
    question_answer,
)
from frontdesk.lib.clinic_time import clinic_zone, local_midnight
from frontdesk.patients.models import Patient


@dataclasses.dataclass(frozen=True)
class InquiriesMorning:
    calls: int
    questions: int


def _call(
    context: AuditContext,
    desk: User,
    patient: Patient | None,
    at: dt.datetime,
    category: str,
    message: str,
    **fields: object,
) -> Inquiry:
    values: dict[str, object] = {
        "patient": patient,
        "channel": "phone",
        "caller_kind": "patient" if patient else "other",
        "contact_id": None,
        "caller_name": "",
        "caller_relationship": "",
        "category": category,
        "message": message,
        "callback_phone": patient.phone if patient and patient.phone else "",
        "preferred_time": "",
        "urgency": "routine",
        "callback_wanted": bool(patient and patient.phone),
    }
    values.update(fields)
    return inquiry_log(context=context, user=desk, request=CallRequest(**values), now=at)  # type: ignore[arg-type]


def inquiries_morning(*, clinic: Clinic, today: dt.date | None = None) -> InquiriesMorning:
    """Today's calls for the demo clinic (nothing if today has calls already)."""
    zone = clinic_zone(clinic)
    day = today or timezone.now().astimezone(zone).date()
    start = local_midnight(day, zone)
    # The morning ends now (or at 11:00 on a given day): nothing is logged in the future.
    end = start + dt.timedelta(hours=11) if today is not None else timezone.now()
    if Inquiry.objects.filter(clinic=clinic, created_at__gte=end - dt.timedelta(hours=12)).exists():
        return InquiriesMorning(0, 0)
    staff = {u.role: u for u in User.objects.filter(clinic=clinic, is_active=True).order_by("pk")}
    desk, nurse = staff.get(Role.FRONT_DESK), staff.get(Role.NURSE)
    adults = list(
        Patient.objects.filter(clinic=clinic, merged_into__isnull=True, confidentiality="normal")
        .exclude(phone="")
        .order_by("pk")[:12]
    )
    if desk is None or nurse is None or len(adults) < 8:
        return InquiriesMorning(0, 0)

    def at(minutes_before_end: int) -> dt.datetime:
        return end - dt.timedelta(minutes=minutes_before_end)

    context = dataclasses.replace(SYSTEM_CONTEXT, clinic_id=clinic.pk, purpose="demo")
    p = adults
    # The mother calls about a child: a patient under 18 when the demo has one.
    child = (
        Patient.objects.filter(
            clinic=clinic,
            merged_into__isnull=True,
            confidentiality="normal",
            birth_date__gt=day - dt.timedelta(days=18 * 365 + 4),  # 29 February safe
        )
        .exclude(pk__in=[x.pk for x in p])
        .order_by("pk")
        .first()
    )
    if child is not None:
        p[0] = child
    # Who may hear what, on three patients.
    for patient, name, relationship, may_hear, until in (
        (p[0], "Maria Alvarez", "parent", "everything", None),
        (p[1], "Grace Okafor", "power_of_attorney", "billing", None),
        (p[2], "Tom Becker", "carer", "appointments", day - dt.timedelta(days=1)),
    ):
        if patient.contacts.filter(name=name).exists():
            continue
        contact_save(
            context=context,
            user=desk,
            patient=patient,
            values=ContactValues(
                name=name,
                relationship=relationship,
                phone="",
                may_hear=may_hear,
                valid_until=None,
                note="",
            ),
            now=at(200),
        )
        if until is not None:
            # A permission that has ended: recorded earlier, the desk now hears "Do not disclose".
            patient.contacts.filter(name=name).update(valid_until=until)
    provider = clinic.providers.filter(is_active=True).order_by("pk").first()
    if provider is not None:
        UsualProvider.objects.get_or_create(patient=p[4], defaults={"provider": provider})

    billing = _call(context, desk, p[3], at(170), "billing", "Was charged twice for the visit.")
    callback_attempt_log(
        context=context,
        user=desk,
        callback_id=billing.callback.pk,
        outcome="no_answer",
        now=at(110),
    )
    mother = p[0].contacts.filter(name="Maria Alvarez").first()
    _call(
        context,
        desk,
        p[0],
        at(150),
        "appointment",
        "Can her check-up move to after school?",
        caller_kind="contact" if mother else "patient",
        contact_id=mother.pk if mother else None,
        preferred_time="after 3 pm",
    )
    red = _call(
        context,
        desk,
        p[5],
        at(140),
        "medical_question",
        "Chest pain since last night, worse when climbing stairs.",
        urgency="urgent",
    )
    question_answer(
        context=context,
        user=nurse,
        question_id=MedicalQuestion.objects.get(inquiry=red).pk,
        answer="Called the patient: advised to call 911 now; daughter driving him to the ED.",
        route="called",
        now=at(135),
    )
    _call(
        context,
        desk,
        p[4],
        at(90),
        "medical_question",
        "Can I take ibuprofen with my blood pressure tablets?",
    )
    relay = _call(
        context,
        desk,
        p[6],
        at(80),
        "medical_question",
        "Should I still fast before Thursday's blood test if I am diabetic?",
    )
    question_answer(
        context=context,
        user=nurse,
        question_id=MedicalQuestion.objects.get(inquiry=relay).pk,
        answer="Yes, fast from midnight but take a sugar if you feel shaky; bring your meter.",
        route="desk",
        now=at(30),
    )
    records = _call(
        context, desk, p[7], at(240), "records", "Needs her vaccination record for a new job."
    )
    for minutes in (200, 140, 60):
        callback_attempt_log(
            context=context,
            user=desk,
            callback_id=records.callback.pk,
            outcome="voicemail",
            now=at(minutes),
        )
    _call(
        context,
        desk,
        p[8] if len(p) > 8 else p[3],
        at(45),
        "complaint",
        "Unhappy that nobody told him the doctor was running an hour late.",
        callback_wanted=False,
    )
    _call(
        context,
        desk,
        None,
        at(20),
        "other",
        "Asking whether the clinic takes new patients on Medicare.",
        caller_name="Denise Ward",
        callback_phone="(415) 555-0134",
        urgency="urgent",
    )
    since = end - dt.timedelta(hours=12)
    calls = Inquiry.objects.filter(clinic=clinic, created_at__gte=since).count()
    questions = MedicalQuestion.objects.filter(clinic=clinic, created_at__gte=since).count()
    return InquiriesMorning(calls, questions)
