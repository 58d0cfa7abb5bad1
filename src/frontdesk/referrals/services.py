"""Referrals in and out: every change of status is one service, audited, and those that change
what the desk must do raise the desk's version (referrals/desk.py reads the unscheduled ones)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.desk.live import desk_changed
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.documents.services import document_file
from frontdesk.letters.models import LetterDelivery, LetterKind
from frontdesk.letters.services import Addressee, LetterError, letter_issue
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.referrals.models import (
    Direction,
    Practice,
    Referral,
    ReferralStatus,
    ReferralTarget,
    Urgency,
)
from frontdesk.scheduling.business_days import business_deadline
from frontdesk.scheduling.models import Appointment, AppointmentStatus

# The clinic's target when it has set none: routine referrals booked within 5 business days,
# urgent ones within 1.
DEFAULT_ROUTINE_DAYS = 5
DEFAULT_URGENT_DAYS = 1


class ReferralError(ValueError):
    """The change cannot be made; the message says why in the desk's words."""


def referral_target_days(clinic_id: int, urgency: str) -> int:
    target = ReferralTarget.objects.filter(clinic_id=clinic_id).first()
    if urgency == Urgency.URGENT:
        return target.urgent_days if target else DEFAULT_URGENT_DAYS
    return target.routine_days if target else DEFAULT_ROUTINE_DAYS


def referral_due(clinic_id: int, received_at: dt.datetime, urgency: str) -> dt.datetime:
    """When the referral must be booked by: the target in the clinic's business days."""
    return business_deadline(clinic_id, received_at, referral_target_days(clinic_id, urgency))


@dataclass(frozen=True)
class IncomingDetails:
    """An incoming referral as typed (the form has checked each field)."""

    urgency: str
    reason: str
    provider_name: str
    practice_name: str = ""
    npi: str = ""
    phone: str = ""
    fax: str = ""
    auth_number: str = ""
    auth_visits: int | None = None
    auth_expires: dt.date | None = None


def _audit(
    context: AuditContext,
    referral: Referral,
    action: AuditAction,
    detail: dict[str, Any],
) -> None:
    audit_record(
        context=context,
        action=action,
        patient_ids=[referral.patient_id],
        object_type=AuditObject.REFERRAL,
        object_id=referral.pk,
        detail=detail,
    )


def _attach(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    documents: Iterable[Document],
    kind: str,
) -> list[int]:
    """The documents that came with (or go with) a referral: unfiled ones are filed to its
    patient; one filed to another patient is refused."""
    attached = []
    for document in documents:
        if document.clinic_id != referral.clinic_id:
            raise ReferralError("That document is not one of this clinic's.")
        if document.patient_id is None:
            document = document_file(
                context=context, user=user, document=document, patient=referral.patient, kind=kind
            )
        elif document.patient_id != referral.patient_id:
            raise ReferralError(
                "A chosen document is filed to another patient; move it first if it is this "
                "patient's."
            )
        attached.append(document.pk)
    referral.documents.add(*attached)
    return attached


@transaction.atomic
def referral_register(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    details: IncomingDetails,
    documents: Sequence[Document] = (),
    now: dt.datetime | None = None,
) -> Referral:
    """An incoming referral, received now: due by the clinic's target in business days, on the
    desk queue until it is booked. Documents that came with it are filed to the patient."""
    now = now or timezone.now()
    if user.clinic_id is None or patient.clinic_id != user.clinic_id:
        raise ReferralError("That patient is not one of this clinic's.")
    received_on = now.astimezone(clinic_zone(patient.clinic_id)).date()
    if details.auth_expires is not None and details.auth_expires < received_on:
        raise ReferralError(
            f"The authorisation expiry ({details.auth_expires:%b %-d, %Y}) is before the "
            "referral was received: check the date on the letter."
        )
    if details.urgency not in Urgency.values:
        raise ReferralError("Choose how urgent the referral is.")
    referral = Referral.objects.create(
        clinic_id=patient.clinic_id,
        direction=Direction.INCOMING,
        patient=patient,
        status=ReferralStatus.RECEIVED,
        urgency=details.urgency,
        reason=details.reason,
        provider_name=details.provider_name,
        practice_name=details.practice_name,
        npi=details.npi,
        phone=details.phone,
        fax=details.fax,
        auth_number=details.auth_number,
        auth_visits=details.auth_visits,
        auth_expires=details.auth_expires,
        received_at=now,
        due_at=referral_due(patient.clinic_id, now, details.urgency),
        created_by=user,
    )
    attached = _attach(
        context=context,
        user=user,
        referral=referral,
        documents=documents,
        kind=DocumentKind.REFERRAL,
    )
    _audit(
        context,
        referral,
        AuditAction.CREATE,
        {"direction": "incoming", "urgency": details.urgency, "documents": attached},
    )
    desk_changed(referral.clinic_id)
    return referral


def _locked(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)


@dataclass(frozen=True)
class Transition:
    """One step of a referral's life: the statuses it may start from, where it leads, the
    refusal (in the desk's words) from any other, and whether the desk queue changes."""

    allowed: tuple[ReferralStatus, ...]
    to: ReferralStatus
    refusal: str
    desk: bool = False


# Every status step but booking a visit (`referral_appointment_link`, which also links further
# visits without a change of status), in one table: the referral's paths in and out.
TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(
        (ReferralStatus.RECEIVED,),
        ReferralStatus.ACCEPTED,
        "Only a referral just received can be accepted",
        desk=True,
    ),
    "decline": Transition(
        (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED),
        ReferralStatus.DECLINED,
        "Only a referral not yet booked can be declined",
        desk=True,
    ),
    "seen": Transition(
        (ReferralStatus.SCHEDULED,),
        ReferralStatus.SEEN,
        "Only a booked referral can be marked seen",
    ),
    "report_sent": Transition(
        (ReferralStatus.SEEN,),
        ReferralStatus.REPORT_SENT,
        "The report goes back once the patient has been seen",
    ),
    "send": Transition(
        (ReferralStatus.REQUESTED,),
        ReferralStatus.SENT,
        "Only a requested referral can be sent",
    ),
    "external_appointment": Transition(
        (ReferralStatus.SENT, ReferralStatus.SCHEDULED),
        ReferralStatus.SCHEDULED,
        "The practice's appointment is recorded once the referral is sent",
    ),
    "report_received": Transition(
        (ReferralStatus.SENT, ReferralStatus.SCHEDULED),
        ReferralStatus.REPORT_RECEIVED,
        "A report is received for a referral that was sent",
    ),
}


def _step(
    *,
    context: AuditContext,
    referral: Referral,
    step: str,
    changes: dict[str, Any],
    detail: dict[str, Any] | None = None,
) -> Referral:
    transition = TRANSITIONS[step]
    locked = _locked(referral)
    if locked.status not in transition.allowed:
        raise ReferralError(f"{transition.refusal} (it is {locked.get_status_display().lower()}).")
    before = locked.status
    locked.status = transition.to
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save()
    _audit(
        context,
        locked,
        AuditAction.UPDATE,
        {"from": before, "to": str(transition.to), **(detail or {})},
    )
    if transition.desk:
        desk_changed(locked.clinic_id)
    return locked


def _letter_to_referrer(
    *, context: AuditContext, user: User, referral: Referral, kind: str, reason: str = ""
) -> Document:
    """The letter back to the referrer (accepted, or declined with the reason), filed to the
    patient's chart and with the referral, to print and send to the practice."""
    lines = [line for line in (referral.practice_name,) if line]
    if referral.fax:
        lines.append(f"Fax {referral.fax}")
    fields = {
        "referrer_name": referral.provider_name or referral.practice_name or "Colleague",
        "referring_practice": referral.practice_name,
        "referral_reason": referral.reason,
    }
    if reason:
        fields["reason"] = reason
    try:
        document = letter_issue(
            context=context,
            actor=user,
            patient=referral.patient,
            kind=kind,
            fields=fields,
            addressee=Addressee(name=fields["referrer_name"], lines=lines),
            delivery=LetterDelivery.PRINT,
        )
    except LetterError as error:
        raise ReferralError(error.message) from None
    referral.documents.add(document)
    return document


@transaction.atomic
def referral_accept(
    *, context: AuditContext, user: User, referral: Referral, now: dt.datetime | None = None
) -> Referral:
    """The clinician's yes, recorded by the desk: the referral is now to be booked, and the
    letter telling the referrer so is filed with it, to print."""
    accepted = _step(
        context=context,
        referral=referral,
        step="accept",
        changes={"decided_at": now or timezone.now()},
    )
    _letter_to_referrer(
        context=context, user=user, referral=accepted, kind=LetterKind.REFERRAL_ACCEPTED
    )
    return accepted


@transaction.atomic
def referral_decline(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    reason: str,
    now: dt.datetime | None = None,
) -> Referral:
    """The clinician's no, with the reason; the referral leaves the desk queue, and the letter
    telling the referrer why is filed with it, to print. A letter that cannot be printed leaves
    the referral as it was."""
    reason = reason.strip()
    if not reason:
        raise ReferralError("Say why the referral is declined; the referrer is told.")
    declined = _step(
        context=context,
        referral=referral,
        step="decline",
        changes={
            "decided_at": now or timezone.now(),
            "closed_at": now or timezone.now(),
            "decline_reason": reason[:300],
        },
        detail={"reason": reason[:300]},
    )
    _letter_to_referrer(
        context=context,
        user=user,
        referral=declined,
        kind=LetterKind.REFERRAL_DECLINED,
        reason=declined.decline_reason,
    )
    return declined


_LIVE_VISIT = (
    AppointmentStatus.PROPOSED,
    AppointmentStatus.PENDING,
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.FULFILLED,
)


@transaction.atomic
def referral_appointment_link(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    appointment: Appointment,
    now: dt.datetime | None = None,
) -> Referral:
    """The visit the referral led to: the first makes it scheduled (off the desk queue); a
    further visit under the same authorisation is linked too."""
    locked = _locked(referral)
    if appointment.patient_id != locked.patient_id:
        raise ReferralError("That visit is not this patient's.")
    if appointment.status not in _LIVE_VISIT:
        raise ReferralError("That visit was cancelled; choose a booked one.")
    if locked.direction != Direction.INCOMING:
        raise ReferralError("Only an incoming referral is booked here.")
    if locked.status == ReferralStatus.RECEIVED:
        raise ReferralError("Accept the referral before booking it.")
    if locked.status not in (ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED):
        raise ReferralError(
            f"The referral is {locked.get_status_display().lower()}; no visit can be added."
        )
    locked.appointments.add(appointment)
    before = locked.status
    if locked.status == ReferralStatus.ACCEPTED:
        locked.status = ReferralStatus.SCHEDULED
        locked.scheduled_at = now or timezone.now()
        locked.save(update_fields=["status", "scheduled_at"])
    _audit(
        context,
        locked,
        AuditAction.UPDATE,
        {"from": before, "to": locked.status, "appointment": appointment.pk},
    )
    desk_changed(locked.clinic_id)
    return locked


@transaction.atomic
def referral_seen(
    *, context: AuditContext, user: User, referral: Referral, now: dt.datetime | None = None
) -> Referral:
    return _step(
        context=context,
        referral=referral,
        step="seen",
        changes={"seen_at": now or timezone.now()},
    )


@transaction.atomic
def referral_report_sent(
    *, context: AuditContext, user: User, referral: Referral, now: dt.datetime | None = None
) -> Referral:
    """The consultation report went back to the referrer: the loop is closed."""
    return _step(
        context=context,
        referral=referral,
        step="report_sent",
        changes={"closed_at": now or timezone.now()},
    )


@transaction.atomic
def referral_documents_add(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    documents: Sequence[Document],
) -> Referral:
    """File more documents with a referral (the patient's own, or unfiled ones, which are filed
    to its patient as referral documents)."""
    if not documents:
        raise ReferralError("Choose the documents to add.")
    locked = _locked(referral)
    attached = _attach(
        context=context,
        user=user,
        referral=locked,
        documents=documents,
        kind=DocumentKind.REFERRAL,
    )
    _audit(context, locked, AuditAction.UPDATE, {"documents_added": attached})
    return locked


# --- Outgoing -------------------------------------------------------------------------------


@transaction.atomic
def referral_request(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    specialty: str,
    reason: str,
    urgency: str,
    now: dt.datetime | None = None,
) -> Referral:
    """A physician asks for a specialist referral; the desk sends it (`referral_send`)."""
    if user.clinic_id is None or patient.clinic_id != user.clinic_id:
        raise ReferralError("That patient is not one of this clinic's.")
    if urgency not in Urgency.values:
        raise ReferralError("Choose how urgent the referral is.")
    referral = Referral.objects.create(
        clinic_id=patient.clinic_id,
        direction=Direction.OUTGOING,
        patient=patient,
        status=ReferralStatus.REQUESTED,
        urgency=urgency,
        reason=reason,
        specialty=specialty,
        received_at=now or timezone.now(),
        created_by=user,
    )
    _audit(context, referral, AuditAction.CREATE, {"direction": "outgoing", "urgency": urgency})
    return referral


@transaction.atomic
def referral_send(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    practice: Practice,
    documents: Sequence[Document] = (),
    now: dt.datetime | None = None,
) -> Referral:
    """The packet goes to a practice of the clinic's directory with the chosen documents (the
    patient's own). The covering letter comes with the clinic's letter templates."""
    if practice.clinic_id != referral.clinic_id or not practice.active:
        raise ReferralError("Choose a practice from the clinic's directory.")
    locked = _locked(referral)
    attached = _attach(
        context=context,
        user=user,
        referral=locked,
        documents=documents,
        kind=DocumentKind.OUTSIDE_RECORDS,
    )
    return _step(
        context=context,
        referral=locked,
        step="send",
        changes={
            "practice": practice,
            "practice_name": practice.name,
            "npi": practice.npi,
            "phone": practice.phone,
            "fax": practice.fax,
            "sent_at": now or timezone.now(),
        },
        detail={"practice": practice.pk, "documents": attached},
    )


@transaction.atomic
def referral_external_appointment(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    when: dt.date,
) -> Referral:
    """The date the receiving practice gave the patient."""
    return _step(
        context=context,
        referral=referral,
        step="external_appointment",
        changes={"external_appointment_on": when, "scheduled_at": timezone.now()},
    )


@transaction.atomic
def referral_report_received(
    *,
    context: AuditContext,
    user: User,
    referral: Referral,
    documents: Sequence[Document] = (),
    now: dt.datetime | None = None,
) -> Referral:
    """The specialist's report came back (filed as outside records): the loop is closed."""
    locked = _locked(referral)
    attached = _attach(
        context=context,
        user=user,
        referral=locked,
        documents=documents,
        kind=DocumentKind.OUTSIDE_RECORDS,
    )
    return _step(
        context=context,
        referral=locked,
        step="report_received",
        changes={"closed_at": now or timezone.now()},
        detail={"documents": attached},
    )


@transaction.atomic
def referral_target_save(
    *, context: AuditContext, clinic: Clinic, routine_days: int, urgent_days: int
) -> ReferralTarget:
    """The clinic's target for booking incoming referrals, in business days. Referrals already
    received keep the deadline they were given."""
    if not 1 <= urgent_days <= routine_days <= 60:
        raise ReferralError(
            "Give 1 to 60 business days, with urgent referrals no later than routine ones."
        )
    target, _ = ReferralTarget.objects.update_or_create(
        clinic=clinic, defaults={"routine_days": routine_days, "urgent_days": urgent_days}
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.REFERRAL_TARGET,
        object_id=clinic.pk,
        detail={"routine_days": routine_days, "urgent_days": urgent_days},
    )
    return target


@transaction.atomic
def practice_save(*, context: AuditContext, clinic: Clinic, practice: Practice) -> Practice:
    """Add or change a practice of the directory (no patient data)."""
    practice.clinic = clinic
    is_new = practice.pk is None
    practice.save()
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        object_type=AuditObject.REFERRAL_PRACTICE,
        object_id=practice.pk,
    )
    return practice
