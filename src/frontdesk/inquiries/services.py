"""Writes of calls, callbacks, contacts, medical questions and the clinic's settings.

Each service runs in one transaction, records its own audit event, and calls `desk_changed`
when it opens, changes or closes work on the desk queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.desk.live import desk_changed
from frontdesk.desk.pools import Pool
from frontdesk.inquiries.disclosure import disclosure_verdict
from frontdesk.inquiries.messages import ANSWER_KIND
from frontdesk.inquiries.models import (
    ANSWER_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    AnswerRoute,
    AttemptOutcome,
    Callback,
    CallbackAttempt,
    CallerKind,
    Category,
    Channel,
    ContactRelationship,
    Disclosure,
    Inquiry,
    InquirySettings,
    MedicalQuestion,
    PatientContact,
    TaskPriority,
    TaskStatus,
    Urgency,
    UsualProvider,
)
from frontdesk.inquiries.red_flags import phrases_check, red_flags_find
from frontdesk.inquiries.settings_rules import inquiry_settings, red_flag_list
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.messaging.channels import consented_channels
from frontdesk.messaging.outbox import outbox_add
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import patient_access_check
from frontdesk.patients.validation import clean_phone
from frontdesk.scheduling.business_days import business_deadline

# Open work: a callback or question still waiting for someone.
OPEN = (TaskStatus.REQUESTED, TaskStatus.IN_PROGRESS)


class InquiryRefusedError(Exception):
    """A write refused; `message` says why in the user's words, `field` where."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- Checks shared with the forms ----------------------------------------------------------------


def message_clean(text: str, *, label: str = "the message", limit: int = MESSAGE_MAX) -> str:
    cleaned = text.replace("\x00", "").replace("\r\n", "\n").strip()
    if not cleaned:
        raise InquiryRefusedError(f"Write {label}: in the caller's own words.", field="message")
    if len(cleaned) > limit:
        raise InquiryRefusedError(
            f"Keep {label} to {limit:,} characters (it has {len(cleaned):,}); "
            "put the rest in a second note.",
            field="message",
        )
    return cleaned


def phone_clean(text: str) -> str:
    """The number in E.164, or a refusal in words (the clinic's region for local numbers)."""
    try:
        return clean_phone(text, region=settings.PHONE_REGION)
    except ValidationError as exc:
        raise InquiryRefusedError(" ".join(exc.messages), field="callback_phone") from None


def _audit(
    context: AuditContext,
    action: AuditAction,
    kind: AuditObject,
    pk: int,
    patient_id: int | None,
    detail: dict[str, object],
) -> None:
    audit_record(
        context=context,
        action=action,
        patient_ids=[patient_id] if patient_id else [],
        object_type=kind,
        object_id=pk,
        detail=detail,
    )


# --- Deadlines -----------------------------------------------------------------------------------


def question_due(
    rules: InquirySettings, *, clinic_id: int, now: dt.datetime, urgency: str, red_flag: bool
) -> tuple[dt.datetime, str]:
    """When a clinician must answer, and the priority: a red flag is now; urgent within the
    clinic's minutes (1 hour by default); routine within its business days (1 by default)."""
    if red_flag:
        return now, TaskPriority.STAT
    if urgency == Urgency.URGENT:
        return now + dt.timedelta(minutes=rules.question_urgent_minutes), TaskPriority.URGENT
    days = max(1, rules.question_routine_business_days)
    return business_deadline(clinic_id, now, days), TaskPriority.ROUTINE


def callback_due(rules: InquirySettings, *, now: dt.datetime, urgency: str) -> dt.datetime:
    if urgency == Urgency.URGENT:
        return now + dt.timedelta(minutes=rules.callback_urgent_minutes)
    return now + dt.timedelta(hours=rules.callback_routine_hours)


def _route(patient: Patient) -> tuple[str, User | None, str]:
    """The question's pool, owner and the words for it: the patient's usual provider when one
    is recorded and has an account, else nurse triage."""
    usual = UsualProvider.objects.select_related("provider__staff_user").filter(patient=patient)
    held = usual.first()
    if held is not None and held.provider.staff_user is not None:
        provider = held.provider
        owner = provider.staff_user
        if owner is not None and owner.is_active:
            return Pool.CLINICIANS, owner, f"{provider.given_name} {provider.family_name}"
    return Pool.NURSE_TRIAGE, None, Pool.NURSE_TRIAGE.label


# --- Logging a call ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRequest:
    patient: Patient | None
    channel: str
    caller_kind: str
    contact_id: int | None
    caller_name: str
    caller_relationship: str
    category: str
    message: str
    callback_phone: str
    preferred_time: str
    urgency: str
    callback_wanted: bool


def _contact_of(patient: Patient | None, contact_id: int | None) -> PatientContact | None:
    if contact_id is None:
        return None
    if patient is None:
        raise InquiryRefusedError("Find the patient first, then choose their contact.", "caller")
    contact = PatientContact.objects.filter(pk=contact_id, patient=patient).first()
    if contact is None:
        raise InquiryRefusedError("That contact is not on this patient's list.", field="caller")
    return contact


@transaction.atomic
def inquiry_log(
    *, context: AuditContext, user: User, request: CallRequest, now: dt.datetime | None = None
) -> Inquiry:
    """Log a call or a conversation at the desk. A medical question goes to a clinician (never
    answered here); a wanted callback enters the desk queue. Returns the logged inquiry."""
    now = now or timezone.now()
    if user.clinic_id is None:
        raise InquiryRefusedError("Your account belongs to no clinic.")
    patient = request.patient
    if patient is not None and patient.clinic_id != user.clinic_id:
        raise InquiryRefusedError("That patient is not one of this clinic's.")
    if request.category not in Category.values:
        raise InquiryRefusedError("Choose what the call is about.", field="category")
    if request.caller_kind not in CallerKind.values:
        raise InquiryRefusedError("Say who is calling.", field="caller")
    if request.channel not in Channel.values or request.urgency not in Urgency.values:
        raise InquiryRefusedError("Choose how they came and how urgent it is.", field="urgency")
    message = message_clean(request.message)
    contact = _contact_of(patient, request.contact_id)
    caller_kind = request.caller_kind
    if caller_kind == CallerKind.CONTACT and contact is None:
        raise InquiryRefusedError("Choose which of the patient's contacts is calling.", "caller")
    if caller_kind == CallerKind.PATIENT and patient is None:
        caller_kind = CallerKind.OTHER
    caller_name = " ".join(request.caller_name.split())[:NAME_MAX]
    if caller_kind == CallerKind.OTHER and not caller_name:
        raise InquiryRefusedError("Write the caller's name.", field="caller_name")
    phone = phone_clean(request.callback_phone) if request.callback_phone.strip() else ""
    wants_callback = request.callback_wanted and request.category != Category.MEDICAL_QUESTION
    if wants_callback and not phone:
        raise InquiryRefusedError(
            "Write a number to call back on, or untick “Call back”.", field="callback_phone"
        )
    if request.category == Category.MEDICAL_QUESTION and patient is None:
        raise InquiryRefusedError(
            "A medical question goes on the patient's record: find the patient first.",
            field="category",
        )
    verdict = disclosure_verdict(
        caller_kind=caller_kind,
        contact=contact,
        today=now.astimezone(clinic_zone(user.clinic_id)).date(),
        category=request.category,
    )
    inquiry = Inquiry.objects.create(
        clinic_id=user.clinic_id,
        patient=patient,
        channel=request.channel,
        caller_kind=caller_kind,
        contact=contact,
        caller_name=caller_name or (contact.name if contact else ""),
        caller_relationship=(
            " ".join(request.caller_relationship.split())[:100]
            or (contact.get_relationship_display() if contact else "")
        ),
        disclosure=verdict.level,
        category=request.category,
        message=message,
        callback_phone=phone,
        preferred_time=" ".join(request.preferred_time.split())[:100],
        urgency=request.urgency,
        created_by=user,
        created_at=now,
    )
    patient_id = patient.pk if patient else None
    _audit(
        context,
        AuditAction.CREATE,
        AuditObject.INQUIRY,
        inquiry.pk,
        patient_id,
        {"category": inquiry.category, "caller": caller_kind, "disclosure": verdict.level},
    )
    rules = inquiry_settings(user.clinic_id)
    if wants_callback:
        callback = Callback.objects.create(
            clinic_id=user.clinic_id,
            inquiry=inquiry,
            patient=patient,
            status=TaskStatus.REQUESTED,
            priority=(
                TaskPriority.URGENT if request.urgency == Urgency.URGENT else TaskPriority.ROUTINE
            ),
            pool=Pool.DESK,
            phone=phone,
            preferred_time=inquiry.preferred_time,
            due=callback_due(rules, now=now, urgency=request.urgency),
            created_at=now,
        )
        _audit(
            context,
            AuditAction.CREATE,
            AuditObject.CALLBACK,
            callback.pk,
            patient_id,
            {"due": callback.due.isoformat(), "priority": callback.priority},
        )
    if request.category == Category.MEDICAL_QUESTION and patient is not None:
        _question_open(
            context=context, user=user, patient=patient, inquiry=inquiry, rules=rules, now=now
        )
    desk_changed(user.clinic_id)
    return inquiry


def _question_open(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    inquiry: Inquiry,
    rules: InquirySettings,
    now: dt.datetime,
) -> MedicalQuestion:
    matches = red_flags_find(inquiry.message, red_flag_list(rules))
    red_flag = bool(matches)
    due, priority = question_due(
        rules, clinic_id=patient.clinic_id, now=now, urgency=inquiry.urgency, red_flag=red_flag
    )
    pool, owner, routed_to = _route(patient)
    question = MedicalQuestion.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        inquiry=inquiry,
        question=inquiry.message,
        status=TaskStatus.REQUESTED,
        priority=priority,
        red_flag=red_flag,
        red_flag_phrases=[{"phrase": m.phrase, "negated": m.negated} for m in matches],
        pool=pool,
        owner=owner,
        routed_to=routed_to,
        due=due,
        created_by=user,
        created_at=now,
    )
    _audit(
        context,
        AuditAction.CREATE,
        AuditObject.MEDICAL_QUESTION,
        question.pk,
        patient.pk,
        {
            "routed_to": pool,
            "owner": owner.pk if owner else None,
            "red_flag": red_flag,
            "phrases": [m.phrase for m in matches],
            "due": due.isoformat(),
        },
    )
    return question


# --- Callbacks -----------------------------------------------------------------------------------


@transaction.atomic
def callback_attempt_log(
    *,
    context: AuditContext,
    user: User,
    callback_id: int,
    outcome: str,
    note: str = "",
    next_due: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Callback:
    """Log one attempt. Reached: the callback is done and leaves the queue. Otherwise the next
    attempt is scheduled (at `next_due`, or after the clinic's pause); once the clinic's
    maximum attempts are used, the callback goes to the supervisors' pool."""
    now = now or timezone.now()
    callback = (
        Callback.objects.select_for_update()
        .filter(pk=callback_id, clinic_id=user.clinic_id or 0)
        .first()
    )
    if callback is None:
        raise InquiryRefusedError("There is no such callback.")
    if callback.patient is not None:
        patient_access_check(user, callback.patient)
    if callback.status not in OPEN:
        raise InquiryRefusedError("This callback is already done; nothing was changed.")
    if outcome not in AttemptOutcome.values:
        raise InquiryRefusedError("Say how the call went.", field="outcome")
    note = " ".join(note.replace("\x00", "").split())
    if len(note) > 500:
        raise InquiryRefusedError("Keep the note to 500 characters.", field="note")
    rules = inquiry_settings(callback.clinic_id)
    if outcome == AttemptOutcome.REACHED:
        next_due = None
    else:
        if next_due is not None and next_due <= now:
            raise InquiryRefusedError(
                "That time has already passed: choose a later time for the next attempt.",
                field="next_due",
            )
        next_due = next_due or now + dt.timedelta(minutes=rules.callback_retry_minutes)
    CallbackAttempt.objects.create(
        callback=callback, outcome=outcome, note=note, by=user, at=now, next_due=next_due
    )
    callback.attempts += 1
    if outcome == AttemptOutcome.REACHED:
        callback.status = TaskStatus.COMPLETED
        callback.completed_at = now
    else:
        callback.status = TaskStatus.IN_PROGRESS
        callback.due = next_due or now
        if callback.attempts >= rules.callback_max_attempts:
            callback.pool = Pool.SUPERVISORS
            callback.owner = None
    callback.save()
    _audit(
        context,
        AuditAction.UPDATE,
        AuditObject.CALLBACK,
        callback.pk,
        callback.patient_id,
        {
            "outcome": outcome,
            "attempts": callback.attempts,
            "pool": callback.pool,
            "next_due": next_due.isoformat() if next_due else None,
        },
    )
    desk_changed(callback.clinic_id)
    return callback


# --- Medical questions ---------------------------------------------------------------------------

CLINICAL_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN})


def _question_locked(user: User, question_id: int) -> MedicalQuestion:
    question = (
        MedicalQuestion.objects.select_for_update()
        .filter(pk=question_id, clinic_id=user.clinic_id or 0)
        .first()
    )
    if question is None:
        raise InquiryRefusedError("There is no such question.")
    # A restricted record asks for a reason first (BreakGlassRequiredError), as its chart does.
    patient_access_check(user, question.patient)
    return question


@transaction.atomic
def question_answer(
    *,
    context: AuditContext,
    user: User,
    question_id: int,
    answer: str,
    route: str,
    now: dt.datetime | None = None,
) -> MedicalQuestion:
    """A clinician's answer. Refused to anyone else, whatever page they came from: the front
    desk never answers a medical question. The answer goes back to the desk to relay, to the
    patient by their agreed channel through the outbox, or notes the clinician called them."""
    now = now or timezone.now()
    if user.role not in CLINICAL_ROLES or not role_may(user.role, Action.QUESTION_ANSWER):
        raise InquiryRefusedError(
            "Only a nurse or a physician may answer a medical question. "
            "Take the patient's words and pass the question on."
        )
    question = _question_locked(user, question_id)
    if question.status != TaskStatus.REQUESTED:
        raise InquiryRefusedError(
            "This question was already answered; the answer is below and nothing was changed."
        )
    text = message_clean(answer, label="the answer", limit=ANSWER_MAX)
    if route not in AnswerRoute.values:
        raise InquiryRefusedError("Say how the answer reaches the patient.", field="route")
    if route == AnswerRoute.MESSAGE and not consented_channels(question.patient):
        raise InquiryRefusedError(
            "The patient has agreed to no email or text messages: send it to the desk to relay.",
            field="route",
        )
    question.answer = text
    question.answer_route = route
    question.answered_by = user
    question.answered_at = now
    question.status = TaskStatus.IN_PROGRESS if route == AnswerRoute.DESK else TaskStatus.COMPLETED
    question.save()
    if route == AnswerRoute.MESSAGE:
        outbox_add(kind=ANSWER_KIND, object_id=question.pk, patient=question.patient, now=now)
    _audit(
        context,
        AuditAction.UPDATE,
        AuditObject.MEDICAL_QUESTION,
        question.pk,
        question.patient_id,
        {"event": "answered", "route": route},
    )
    desk_changed(question.clinic_id)
    return question


@transaction.atomic
def question_relay(
    *,
    context: AuditContext,
    user: User,
    question_id: int,
    note: str = "",
    now: dt.datetime | None = None,
) -> MedicalQuestion:
    """The desk read the clinician's answer to the patient; the item leaves the queue. Once."""
    now = now or timezone.now()
    question = _question_locked(user, question_id)
    if question.relayed_at is not None:
        who = question.relayed_by.get_full_name() if question.relayed_by else "someone"
        when = question.relayed_at.astimezone(clinic_zone(question.clinic_id))
        raise InquiryRefusedError(
            f"This answer was already relayed by {who or 'a colleague'} at "
            f"{when:%H:%M on %b %-d}; nothing was changed."
        )
    if question.status != TaskStatus.IN_PROGRESS or question.answer_route != AnswerRoute.DESK:
        raise InquiryRefusedError(
            "There is no answer for the desk to relay yet: a clinician answers first."
        )
    question.relay_note = " ".join(note.replace("\x00", "").split())[:500]
    question.relayed_by = user
    question.relayed_at = now
    question.status = TaskStatus.COMPLETED
    question.save()
    _audit(
        context,
        AuditAction.UPDATE,
        AuditObject.MEDICAL_QUESTION,
        question.pk,
        question.patient_id,
        {"event": "relayed"},
    )
    desk_changed(question.clinic_id)
    return question


@transaction.atomic
def questions_escalate_overdue(*, context: AuditContext, now: dt.datetime | None = None) -> int:
    """Questions past their deadline with no answer go to the supervisors' pool (once each,
    audited); the desk queue shows them as escalations. Returns how many."""
    now = now or timezone.now()
    overdue = list(
        MedicalQuestion.objects.select_for_update().filter(
            status=TaskStatus.REQUESTED, due__lt=now, escalated_at__isnull=True
        )
    )
    for question in overdue:
        question.escalated_at = now
        question.save(update_fields=["escalated_at"])
        _audit(
            context,
            AuditAction.SYSTEM,
            AuditObject.MEDICAL_QUESTION,
            question.pk,
            question.patient_id,
            {"event": "escalated", "due": question.due.isoformat()},
        )
    for clinic_id in {q.clinic_id for q in overdue}:
        desk_changed(clinic_id)
    return len(overdue)


# --- Contacts and the usual provider -------------------------------------------------------------


def _clinic_today(patient: Patient, now: dt.datetime) -> dt.date:
    return now.astimezone(clinic_zone(patient.clinic_id)).date()


@dataclass(frozen=True)
class ContactValues:
    name: str
    relationship: str
    phone: str
    may_hear: str
    valid_until: dt.date | None
    note: str


@transaction.atomic
def contact_save(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    values: ContactValues,
    contact_id: int | None = None,
    now: dt.datetime | None = None,
) -> PatientContact:
    """Add a contact to the patient's list, or change one. Audited with what they may hear."""
    now = now or timezone.now()
    name = " ".join(values.name.split())
    if not name:
        raise InquiryRefusedError("Write the contact's name.", field="name")
    if len(name) > NAME_MAX:
        raise InquiryRefusedError(f"Keep the name to {NAME_MAX} characters.", field="name")
    if values.relationship not in ContactRelationship.values:
        raise InquiryRefusedError("Choose how they are related.", field="relationship")
    if values.may_hear not in Disclosure.values:
        raise InquiryRefusedError("Choose what they may be told.", field="may_hear")
    if values.valid_until is not None and values.valid_until < _clinic_today(patient, now):
        raise InquiryRefusedError(
            "That date has passed: a permission cannot end before today.", field="valid_until"
        )
    phone = ""
    if values.phone.strip():
        try:
            phone = clean_phone(values.phone, region=settings.PHONE_REGION)
        except ValidationError as exc:
            raise InquiryRefusedError(" ".join(exc.messages), field="phone") from None
    if contact_id is None:
        contact = PatientContact(clinic_id=patient.clinic_id, patient=patient, created_at=now)
        action = AuditAction.CREATE
    else:
        found = (
            PatientContact.objects.select_for_update()
            .filter(pk=contact_id, patient=patient)
            .first()
        )
        if found is None:
            raise InquiryRefusedError("That contact is not on this patient's list.")
        contact, action = found, AuditAction.UPDATE
    contact.name = name
    contact.relationship = values.relationship
    contact.phone = phone
    contact.may_hear = values.may_hear
    contact.valid_until = values.valid_until
    contact.note = " ".join(values.note.split())[:300]
    contact.updated_at = now
    contact.save()
    _audit(
        context,
        action,
        AuditObject.PATIENT_CONTACT,
        contact.pk,
        patient.pk,
        {
            "relationship": contact.relationship,
            "may_hear": contact.may_hear,
            "valid_until": contact.valid_until.isoformat() if contact.valid_until else None,
        },
    )
    return contact


@transaction.atomic
def contact_remove(*, context: AuditContext, user: User, patient: Patient, contact_id: int) -> None:
    """Take a contact off the list: from now on they hear nothing. The audit trail keeps who
    they were and what they could hear."""
    contact = (
        PatientContact.objects.select_for_update().filter(pk=contact_id, patient=patient).first()
    )
    if contact is None:
        raise InquiryRefusedError("That contact is not on this patient's list.")
    _audit(
        context,
        AuditAction.UPDATE,
        AuditObject.PATIENT_CONTACT,
        contact.pk,
        patient.pk,
        {"event": "removed", "name": contact.name, "may_hear": contact.may_hear},
    )
    contact.delete()


@transaction.atomic
def usual_provider_set(
    *, context: AuditContext, user: User, patient: Patient, provider_id: int | None
) -> None:
    """Record (or clear, with None) the provider the patient's questions go to."""
    if provider_id is None:
        UsualProvider.objects.filter(patient=patient).delete()
    else:
        from_clinic = patient.clinic.providers.filter(pk=provider_id, is_active=True).exists()
        if not from_clinic:
            raise InquiryRefusedError("Choose one of the clinic's providers.", field="provider")
        UsualProvider.objects.update_or_create(
            patient=patient, defaults={"provider_id": provider_id}
        )
    _audit(
        context,
        AuditAction.UPDATE,
        AuditObject.PATIENT_CONTACT,
        patient.pk,
        patient.pk,
        {"event": "usual_provider", "provider": provider_id},
    )


# --- Settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsValues:
    callback_max_attempts: int
    callback_retry_minutes: int
    callback_routine_hours: int
    callback_urgent_minutes: int
    question_urgent_minutes: int
    question_routine_business_days: int
    red_flag_phrases: str


_LIMITS = {
    "callback_max_attempts": (1, 10, "attempts"),
    "callback_retry_minutes": (5, 24 * 60, "minutes"),
    "callback_routine_hours": (1, 72, "hours"),
    "callback_urgent_minutes": (5, 240, "minutes"),
    "question_urgent_minutes": (5, 240, "minutes"),
    "question_routine_business_days": (1, 5, "business days"),
}


@transaction.atomic
def inquiry_settings_save(
    *,
    context: AuditContext,
    user: User,
    values: SettingsValues,
    version: int,
    now: dt.datetime | None = None,
) -> InquirySettings:
    """Save the clinic's red-flag list and deadlines; refused over a newer save."""
    now = now or timezone.now()
    if user.clinic_id is None:
        raise InquiryRefusedError("Your account belongs to no clinic.")
    for name, (low, high, unit) in _LIMITS.items():
        value = getattr(values, name)
        if not low <= value <= high:
            raise InquiryRefusedError(f"Choose between {low} and {high} {unit}.", field=name)
    try:
        phrases = phrases_check(values.red_flag_phrases)
    except ValueError as exc:
        raise InquiryRefusedError(str(exc), field="red_flag_phrases") from None
    row = InquirySettings.objects.select_for_update().filter(clinic_id=user.clinic_id).first()
    if row is None:
        row = inquiry_settings(user.clinic_id)  # the defaults, version 1
    if row.version != version:
        raise InquiryRefusedError(
            "Someone saved these settings after you opened them: check them and save again."
        )
    for name in _LIMITS:
        setattr(row, name, getattr(values, name))
    row.red_flag_phrases = "\n".join(phrases)
    row.updated_at = now
    row.version += 1
    row.save()
    _audit(
        context,
        AuditAction.UPDATE,
        AuditObject.INQUIRY_SETTINGS,
        row.pk,
        None,
        {**{name: getattr(values, name) for name in _LIMITS}, "phrases": len(phrases)},
    )
    return row
