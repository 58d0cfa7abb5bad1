"""Writes of complaints: intake, escalation, owner and deadlines, acknowledgement, notes, the
written response (a PDF letter from the clinic's complaint-response template), privacy reviews
and the clinic's settings. Each records its
own audit event and tells the desk queue when its work changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.complaints.models import (
    OPEN_STATUSES,
    TEXT_MAX,
    Category,
    Complaint,
    ComplaintEvent,
    ComplaintLetter,
    ComplaintSettings,
    ComplaintStatus,
    EventKind,
    PrivacyReview,
    Severity,
)
from frontdesk.complaints.selectors import complaint_settings
from frontdesk.desk.live import desk_changed
from frontdesk.letters.models import LetterDelivery, LetterKind
from frontdesk.letters.services import Addressee, LetterError, letter_issue, letter_unfiled
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.scheduling.business_days import business_deadline


class ComplaintRefusedError(ValueError):
    """The change cannot be made; the message says why in the officer's words."""


def _text(value: str, *, what: str, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ComplaintRefusedError(f"Write {what}.")
    if len(value) > TEXT_MAX:
        raise ComplaintRefusedError(
            f"Keep {what} under {TEXT_MAX:,} characters (it has {len(value):,})."
        )
    return value


def _staff_checked(clinic_id: int, staff: Sequence[User]) -> list[User]:
    for member in staff:
        if member.clinic_id != clinic_id or not member.is_active:
            raise ComplaintRefusedError(
                f"{member.get_full_name() or member.username} is not on this clinic's staff; "
                "choose the staff involved from the list."
            )
    return list(staff)


def _owner_checked(complaint_clinic_id: int, owner: User | None, named: Sequence[User]) -> None:
    if owner is None:
        return
    if owner.clinic_id != complaint_clinic_id or owner.role != Role.SUPERVISOR:
        raise ComplaintRefusedError("The owner of a grievance is one of the clinic's supervisors.")
    if not owner.is_active:
        raise ComplaintRefusedError("That supervisor's account is not active; choose another.")
    if any(member.pk == owner.pk for member in named):
        raise ComplaintRefusedError(
            "A supervisor named in the complaint cannot own it; choose another supervisor."
        )


def _event(
    complaint: Complaint, *, kind: EventKind, by: User | None, at: dt.datetime, text: str = ""
) -> None:
    ComplaintEvent.objects.create(complaint=complaint, kind=kind, by=by, at=at, text=text)


def _audit(
    context: AuditContext,
    complaint: Complaint,
    *,
    action: AuditAction = AuditAction.UPDATE,
    object_type: AuditObject = AuditObject.COMPLAINT,
    detail: dict[str, object] | None = None,
) -> None:
    audit_record(
        context=context,
        action=action,
        patient_ids=[complaint.patient_id] if complaint.patient_id else [],
        object_type=object_type,
        object_id=complaint.pk,
        detail=detail,
    )


@transaction.atomic
def complaint_log(
    *,
    context: AuditContext,
    user: User,
    patient: Patient | None,
    complainant: str = "",
    occurred_on: dt.date,
    category: Category,
    severity: str,
    what_happened: str,
    patient_wants: str = "",
    staff_involved: Sequence[User] = (),
    resolved_at_desk: bool,
    apologised: bool = False,
    explained: bool = False,
    desk_action: str = "",
    owner: User | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Record a complaint as the officer heard it. Resolved at the desk, it is closed now; if
    not, it becomes a grievance with its two deadlines. A privacy complaint always opens a
    review by the privacy officer, even when the patient left satisfied."""
    now = now or timezone.now()
    if user.clinic_id is None:
        raise ComplaintRefusedError("Only staff of a clinic log complaints.")
    clinic_id = user.clinic_id
    if patient is not None and patient.clinic_id != clinic_id:
        raise ComplaintRefusedError("That patient is not this clinic's.")
    if occurred_on > now.astimezone(clinic_zone(clinic_id)).date():
        raise ComplaintRefusedError("The day it happened cannot be in the future.")
    if severity not in Severity.values:
        raise ComplaintRefusedError("Choose how serious it is from the list.")
    what_happened = _text(what_happened, what="what happened")
    patient_wants = _text(patient_wants, what="what the patient wants", required=False)
    desk_action = _text(desk_action, what="what was done at the desk", required=False)
    complainant = complainant.strip()[:200]
    named = _staff_checked(clinic_id, staff_involved)
    if resolved_at_desk:
        if not (apologised or explained or desk_action):
            raise ComplaintRefusedError(
                "Say what resolved it at the desk: an apology, an explanation, or what was done."
            )
        owner = None
    _owner_checked(clinic_id, owner, named)
    settings = complaint_settings(clinic_id)
    complaint = Complaint.objects.create(
        clinic_id=clinic_id,
        patient=patient,
        complainant=complainant,
        logged_by=user,
        created_at=now,
        occurred_on=occurred_on,
        category=category,
        severity=severity,
        what_happened=what_happened,
        patient_wants=patient_wants,
        apologised=apologised,
        explained=explained,
        desk_action=desk_action,
        status=(
            ComplaintStatus.RESOLVED_AT_DESK
            if resolved_at_desk
            else ComplaintStatus.AWAITING_ACKNOWLEDGEMENT
        ),
        owner=owner,
        acknowledge_due=(
            None
            if resolved_at_desk
            else business_deadline(clinic_id, now, settings.acknowledge_business_days)
        ),
        response_due=None if resolved_at_desk else now + dt.timedelta(days=settings.response_days),
        resolved_at=now if resolved_at_desk else None,
    )
    complaint.staff_involved.set(named)
    _event(complaint, kind=EventKind.LOGGED, by=user, at=now)
    if not resolved_at_desk:
        _event(complaint, kind=EventKind.ESCALATED, by=user, at=now)
    if category == Category.PRIVACY:
        reviewer = settings.privacy_officer
        if reviewer is not None and any(m.pk == reviewer.pk for m in named):
            reviewer = None  # named in it: the other supervisors review it
        PrivacyReview.objects.create(
            complaint=complaint,
            reviewer=reviewer,
            opened_at=now,
            due=now + dt.timedelta(days=settings.response_days),
        )
    _audit(
        context,
        complaint,
        action=AuditAction.CREATE,
        detail={"category": category, "status": complaint.status},
    )
    if complaint.is_open or category == Category.PRIVACY:
        desk_changed(clinic_id)
    return complaint


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


@transaction.atomic
def complaint_assign(
    *,
    context: AuditContext,
    user: User,
    complaint: Complaint,
    owner: User | None,
    response_due: dt.date | None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Give a grievance its owner (or back to the supervisors' pool) and, if asked, a new day
    for the written response (by the end of that day in the clinic's zone)."""
    now = now or timezone.now()
    complaint = _locked(complaint)
    if not complaint.is_open:
        raise ComplaintRefusedError("This complaint is closed; its owner no longer changes.")
    _owner_checked(complaint.clinic_id, owner, list(complaint.staff_involved.all()))
    changes = []
    if (owner.pk if owner else None) != complaint.owner_id:
        complaint.owner = owner
        changes.append(f"Owner: {owner.get_full_name() or owner.username if owner else 'pool'}")
    if response_due is not None:
        zone = clinic_zone(complaint.clinic_id)
        if response_due < now.astimezone(zone).date():
            raise ComplaintRefusedError("The response cannot be due on a day that has passed.")
        complaint.response_due = dt.datetime.combine(
            response_due, dt.time(17), tzinfo=zone
        ).astimezone(dt.UTC)
        changes.append(f"Response due {response_due:%d %b %Y}")
    if not changes:
        return complaint
    complaint.save(update_fields=["owner", "response_due"])
    _event(complaint, kind=EventKind.OWNER, by=user, at=now, text="; ".join(changes))
    _audit(context, complaint, detail={"changed": changes})
    desk_changed(complaint.clinic_id)
    return complaint


def _day_words(complaint: Complaint, at: dt.datetime) -> str:
    local = at.astimezone(clinic_zone(complaint.clinic_id))
    return f"{local:%B} {local.day}, {local.year}"


def _acknowledgement_letter(
    *, context: AuditContext, user: User, complaint: Complaint, now: dt.datetime
) -> None:
    if complaint.patient is None:
        raise ComplaintRefusedError(
            "This complaint names no patient on file, so no letter can be written to them."
        )
    handler = complaint.owner or user

    def day(at: dt.datetime | None) -> str:
        return _day_words(complaint, at or now)

    try:
        letter_issue(
            context=context,
            actor=user,
            patient=complaint.patient,
            kind=LetterKind.COMPLAINT_ACKNOWLEDGEMENT,
            fields={
                "complaint_received_on": day(complaint.created_at),
                "handler_name": handler.get_full_name() or handler.username,
                "response_due": day(complaint.response_due),
            },
            delivery=LetterDelivery.PRINT,
            now=now,
        )
    except LetterError as error:
        raise ComplaintRefusedError(error.message) from None


@transaction.atomic
def complaint_acknowledge(
    *,
    context: AuditContext,
    user: User,
    complaint: Complaint,
    note: str = "",
    letter: bool = False,
    now: dt.datetime | None = None,
) -> Complaint:
    """The patient has been told the grievance was received and who is handling it; with
    `letter`, in the clinic's acknowledgement letter, filed to the patient's chart to print."""
    now = now or timezone.now()
    note = _text(note, what="the note", required=False)
    complaint = _locked(complaint)
    if complaint.status != ComplaintStatus.AWAITING_ACKNOWLEDGEMENT:
        raise ComplaintRefusedError("This grievance was acknowledged already.")
    complaint.status = ComplaintStatus.ACKNOWLEDGED
    complaint.acknowledged_at = now
    if complaint.owner_id is None:
        complaint.owner = user  # whoever acknowledges it takes it, unless it had an owner
    complaint.save(update_fields=["status", "acknowledged_at", "owner"])
    if letter:
        _acknowledgement_letter(context=context, user=user, complaint=complaint, now=now)
    _event(complaint, kind=EventKind.ACKNOWLEDGED, by=user, at=now, text=note)
    _audit(context, complaint, detail={"status": complaint.status})
    desk_changed(complaint.clinic_id)
    return complaint


@transaction.atomic
def complaint_note_add(
    *,
    context: AuditContext,
    user: User,
    complaint: Complaint,
    text: str,
    now: dt.datetime | None = None,
) -> ComplaintEvent:
    """A note on the complaint's history (calls made, what was found)."""
    text = _text(text, what="the note")
    complaint = _locked(complaint)
    event = ComplaintEvent.objects.create(
        complaint=complaint, kind=EventKind.NOTE, by=user, at=now or timezone.now(), text=text
    )
    _audit(context, complaint, detail={"note": event.pk})
    return event


def _response_letter(
    *, context: AuditContext, user: User, complaint: Complaint, body: str, now: dt.datetime
) -> bytes:
    """The response letter's PDF, signed by whoever writes it. To a patient on file it is also
    filed to their chart as correspondence; to someone with no chart (an anonymous visitor)
    it is only kept with the complaint, addressed to the name they gave, if any."""
    fields = {
        "complaint_received_on": _day_words(complaint, complaint.created_at),
        "handler_name": user.get_full_name() or user.username,
        "response": body,
    }
    try:
        if complaint.patient is None:
            name = complaint.complainant
            return letter_unfiled(
                clinic=complaint.clinic,
                kind=LetterKind.COMPLAINT_RESPONSE,
                fields=fields
                | {
                    "patient_name": name or "Sir or Madam",
                    "patient_first_name": name or "Sir or Madam",
                },
                addressee=Addressee(name=name),
                now=now,
            )
        document = letter_issue(
            context=context,
            actor=user,
            patient=complaint.patient,
            kind=LetterKind.COMPLAINT_RESPONSE,
            fields=fields,
            delivery=LetterDelivery.PRINT,
            now=now,
        )
    except LetterError as error:
        raise ComplaintRefusedError(error.message) from None
    with default_storage.open(document.file, "rb") as handle:
        pdf: bytes = handle.read()
    return pdf


@transaction.atomic
def complaint_respond(
    *,
    context: AuditContext,
    user: User,
    complaint: Complaint,
    body: str,
    now: dt.datetime | None = None,
) -> ComplaintLetter:
    """Close a grievance with its written response: the letter is printed to PDF from the
    clinic's complaint-response template (`letters`) and kept with the complaint. A response
    also acknowledges. The complaint stays locked while the letter is printed, so supervisors
    answering at once send one letter."""
    now = now or timezone.now()
    body = _text(body, what="the response")
    complaint = _locked(complaint)
    if complaint.status == ComplaintStatus.RESPONDED:
        raise ComplaintRefusedError("This grievance has its written response already.")
    if complaint.status not in OPEN_STATUSES:
        raise ComplaintRefusedError("This complaint was resolved at the desk; no letter is due.")
    pdf = _response_letter(context=context, user=user, complaint=complaint, body=body, now=now)
    letter = ComplaintLetter.objects.create(
        complaint=complaint, created_at=now, created_by=user, body=body, pdf=pdf
    )
    if complaint.acknowledged_at is None:
        complaint.acknowledged_at = now
    complaint.status = ComplaintStatus.RESPONDED
    complaint.resolved_at = now
    if complaint.owner_id is None:
        complaint.owner = user
    complaint.save(update_fields=["status", "resolved_at", "acknowledged_at", "owner"])
    _event(complaint, kind=EventKind.RESPONDED, by=user, at=now)
    _audit(
        context,
        complaint,
        action=AuditAction.CREATE,
        object_type=AuditObject.COMPLAINT_LETTER,
        detail={"letter": letter.pk},
    )
    desk_changed(complaint.clinic_id)
    return letter


@transaction.atomic
def privacy_review_close(
    *,
    context: AuditContext,
    user: User,
    complaint: Complaint,
    finding: str,
    now: dt.datetime | None = None,
) -> PrivacyReview:
    """The privacy officer's finding (was information used or disclosed wrongly? what now?)."""
    now = now or timezone.now()
    finding = _text(finding, what="the finding")
    review = PrivacyReview.objects.select_for_update().filter(complaint=complaint).first()
    if review is None:
        raise ComplaintRefusedError("This complaint has no privacy review.")
    if review.closed_at is not None:
        raise ComplaintRefusedError("This privacy review is closed already.")
    if review.reviewer_id is not None and review.reviewer_id != user.pk:
        raise ComplaintRefusedError("The clinic's privacy officer closes this review.")
    review.closed_at = now
    review.finding = finding
    if review.reviewer_id is None:
        review.reviewer = user
    review.save(update_fields=["closed_at", "finding", "reviewer"])
    _event(complaint, kind=EventKind.PRIVACY_REVIEWED, by=user, at=now, text=finding)
    _audit(context, complaint, object_type=AuditObject.PRIVACY_REVIEW)
    desk_changed(complaint.clinic_id)
    return review


@transaction.atomic
def complaint_settings_save(
    *,
    context: AuditContext,
    clinic_id: int,
    acknowledge_business_days: int,
    response_days: int,
    privacy_officer: User | None,
) -> ComplaintSettings:
    """The clinic's deadlines for grievances and its privacy officer (a supervisor)."""
    if not 1 <= acknowledge_business_days <= 30:
        raise ComplaintRefusedError("Acknowledge within 1 to 30 business days.")
    if not 1 <= response_days <= 90:
        raise ComplaintRefusedError("Respond in writing within 1 to 90 days.")
    if privacy_officer is not None and (
        privacy_officer.clinic_id != clinic_id or privacy_officer.role != Role.SUPERVISOR
    ):
        raise ComplaintRefusedError("The privacy officer is one of the clinic's supervisors.")
    settings, _ = ComplaintSettings.objects.update_or_create(
        clinic_id=clinic_id,
        defaults={
            "acknowledge_business_days": acknowledge_business_days,
            "response_days": response_days,
            "privacy_officer": privacy_officer,
        },
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.COMPLAINT_SETTINGS,
        object_id=clinic_id,
        detail={
            "acknowledge_business_days": acknowledge_business_days,
            "response_days": response_days,
            "privacy_officer": privacy_officer.pk if privacy_officer else None,
        },
    )
    return settings
