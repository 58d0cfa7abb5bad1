"""Requests for records: logged, verified, worked, sent or denied, each step one audited
service that follows the transition table (records/models.py `TRANSITIONS`). A step that
changes what the desk must do raises the desk's version (records/desk.py reads the open ones).

Letters (extension, cover, denial) are printed and filed to the patient by `letter_make` before
the step's own transaction (rendering a PDF never holds the database's write lock), and the
step is recorded with its letter, so it never stands without the letter that tells the requester.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.desk.live import desk_changed
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.documents.services import documents_upload
from frontdesk.documents.storage import DocumentsRefusedError, Upload
from frontdesk.letters.services import LetterError
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import money_format
from frontdesk.patients.models import Patient
from frontdesk.records.letters import letter_make
from frontdesk.records.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    AuthorisationElement,
    Delivery,
    Disclosure,
    IdentityMethod,
    RecordKind,
    RecordsRequest,
    RecordsSettings,
    Requester,
    RequestStatus,
)

# 45 CFR 164.524(b)(2): act within 30 days of receipt; one extension of 30 days at most, and
# only if the individual is told in writing, within the first 30, why and when to expect it.
DUE_DAYS = 30
EXTENSION_DAYS = 30
# Deliveries that are an electronic copy (the flat fee) rather than paper (per page).
ELECTRONIC = frozenset({Delivery.EMAIL, Delivery.PORTAL, Delivery.FAX})


class RecordsRequestError(ValueError):
    """The change cannot be made; the message says why in the desk's words."""


def _letter(
    *,
    context: AuditContext,
    user: User,
    kind: str,
    request: RecordsRequest,
    fields: dict[str, str],
) -> Document:
    """The step's letter, filed; a letter that cannot be written stops the step, in words."""
    try:
        return letter_make(context=context, user=user, kind=kind, request=request, fields=fields)
    except LetterError as error:
        raise RecordsRequestError(error.message) from None


def records_settings(clinic_id: int) -> RecordsSettings:
    """The clinic's fee schedule and warning days (the defaults, unsaved, when it has none)."""
    return RecordsSettings.objects.filter(clinic_id=clinic_id).first() or RecordsSettings(
        clinic_id=clinic_id
    )


@transaction.atomic
def records_settings_save(
    *,
    context: AuditContext,
    clinic: Clinic,
    electronic_fee: Decimal,
    paper_fee_per_page: Decimal,
    warn_days: int,
) -> RecordsSettings:
    """The clinic's fee schedule for copies of records and how early the desk is warned."""
    if electronic_fee < 0 or paper_fee_per_page < 0:
        raise RecordsRequestError("A fee cannot be negative.")
    if not 1 <= warn_days <= 29:
        raise RecordsRequestError("Warn between 1 and 29 days before a request is due.")
    saved, _ = RecordsSettings.objects.update_or_create(
        clinic=clinic,
        defaults={
            "electronic_fee": electronic_fee,
            "paper_fee_per_page": paper_fee_per_page,
            "warn_days": warn_days,
        },
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[],
        object_type=AuditObject.RECORDS_SETTINGS,
        object_id=saved.pk,
        detail={
            "electronic_fee": str(electronic_fee),
            "paper_fee_per_page": str(paper_fee_per_page),
            "warn_days": warn_days,
        },
    )
    desk_changed(clinic.pk)
    return saved


def records_fee_quote(clinic_id: int, *, how: str, pages: int | None) -> Decimal:
    """The fee by the clinic's schedule: flat for an electronic copy, per page on paper."""
    schedule = records_settings(clinic_id)
    if how in ELECTRONIC:
        return schedule.electronic_fee
    return (schedule.paper_fee_per_page * (pages or 0)).quantize(Decimal("0.01"))


def records_due(clinic_id: int, received_at: dt.datetime, days: int = DUE_DAYS) -> dt.datetime:
    """`days` calendar days after `received_at`, at the same local time of day."""
    zone = clinic_zone(clinic_id)
    local = received_at.astimezone(zone)
    wall = dt.datetime.combine(local.date() + dt.timedelta(days=days), local.time())
    return wall.replace(tzinfo=zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class RequestDetails:
    """A request as typed (the form has checked each field)."""

    requester: str
    delivery: str
    record_kinds: Sequence[str]
    requester_name: str = ""
    requester_organisation: str = ""
    requester_relationship: str = ""
    requester_address: str = ""
    records_from: dt.date | None = None
    records_to: dt.date | None = None
    records_note: str = ""
    delivery_to: str = ""
    purpose: str = ""
    authorisation_elements: Sequence[str] = field(default_factory=tuple)
    authorisation_expires: dt.date | None = None


def authorisation_missing(details: RequestDetails) -> list[str]:
    """The elements of a valid authorisation the checklist does not tick, in words."""
    ticked = set(details.authorisation_elements)
    return [str(label) for value, label in AuthorisationElement.choices if value not in ticked]


def _check(details: RequestDetails, *, today: dt.date, has_authorisation: bool) -> None:
    if details.requester not in Requester.values:
        raise RecordsRequestError("Say who is asking: the patient or a third party.")
    if details.delivery not in Delivery.values:
        raise RecordsRequestError("Choose how the records are to be sent.")
    if not details.record_kinds or not set(details.record_kinds) <= set(RecordKind.values):
        raise RecordsRequestError("Choose which records are asked for.")
    if (
        details.records_from is not None
        and details.records_to is not None
        and details.records_from > details.records_to
    ):
        raise RecordsRequestError(
            "The records' dates run backwards: the first date must come before the last."
        )
    if details.delivery in (Delivery.MAIL, Delivery.EMAIL, Delivery.FAX) and not (
        details.delivery_to or details.requester_address
    ):
        raise RecordsRequestError("Say where to send the records (address, email or fax).")
    if details.requester != Requester.THIRD_PARTY:
        return
    if not (details.requester_name or details.requester_organisation):
        raise RecordsRequestError("Give the name or organisation of the third party.")
    missing = authorisation_missing(details)
    if missing:
        raise RecordsRequestError(
            "A third party receives records only on a complete signed authorisation; it lacks: "
            + "; ".join(m[0].lower() + m[1:] for m in missing)
            + "."
        )
    if not details.purpose:
        raise RecordsRequestError("Give the purpose the authorisation states.")
    if details.authorisation_expires is not None and details.authorisation_expires < today:
        raise RecordsRequestError(
            f"The authorisation expired on {details.authorisation_expires:%b %-d, %Y}: ask for "
            "a new one."
        )
    if not has_authorisation:
        raise RecordsRequestError(
            "Attach the signed authorisation form: a third party's request is refused without it."
        )


def _audit(
    context: AuditContext,
    request: RecordsRequest,
    action: AuditAction,
    detail: dict[str, Any],
) -> None:
    audit_record(
        context=context,
        action=action,
        patient_ids=[request.patient_id],
        object_type=AuditObject.RECORDS_REQUEST,
        object_id=request.pk,
        detail=detail,
    )


def records_request_log(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    details: RequestDetails,
    authorisation: Upload | None = None,
    now: dt.datetime | None = None,
) -> RecordsRequest:
    """A request for the patient's records, received now and due in 30 days. A third party's
    needs every element of a valid authorisation ticked and the signed form attached (filed
    to the patient as a consent document); anything less is refused in words."""
    now = now or timezone.now()
    if user.clinic_id is None or patient.clinic_id != user.clinic_id:
        raise RecordsRequestError("That patient is not one of this clinic's.")
    today = now.astimezone(clinic_zone(patient.clinic_id)).date()
    third_party = details.requester == Requester.THIRD_PARTY
    _check(details, today=today, has_authorisation=authorisation is not None)
    document = None
    if third_party and authorisation is not None:
        try:
            (document,) = documents_upload(
                context=context,
                user=user,
                clinic=patient.clinic,
                uploads=[authorisation],
                patient=patient,
                kind=DocumentKind.CONSENT,
                title="Authorisation to release records",
                now=now,
            )
        except DocumentsRefusedError as error:
            raise RecordsRequestError(str(error)) from None
    # The signed form is checked and stored before the request's transaction (its own, short),
    # so reading and thumbnailing it never holds the database's write lock.
    with transaction.atomic():
        request = RecordsRequest.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            status=RequestStatus.RECEIVED,
            requester=details.requester,
            requester_name=details.requester_name if third_party else "",
            requester_organisation=details.requester_organisation if third_party else "",
            requester_relationship=details.requester_relationship if third_party else "",
            requester_address=details.requester_address,
            records_from=details.records_from,
            records_to=details.records_to,
            record_kinds=list(details.record_kinds),
            records_note=details.records_note,
            delivery=details.delivery,
            delivery_to=details.delivery_to,
            purpose=details.purpose
            if third_party
            else (details.purpose or "At the patient's request"),
            authorisation_elements=list(details.authorisation_elements) if third_party else [],
            authorisation_expires=details.authorisation_expires if third_party else None,
            authorisation_document=document,
            received_at=now,
            due_at=records_due(patient.clinic_id, now),
            created_by=user,
        )
        _audit(
            context,
            request,
            AuditAction.CREATE,
            {
                "requester": details.requester,
                "kinds": list(details.record_kinds),
                "authorisation": document.pk if document else None,
            },
        )
        desk_changed(request.clinic_id)
    return request


def _locked(request: RecordsRequest) -> RecordsRequest:
    return (
        RecordsRequest.objects.select_for_update()
        .select_related("patient", "clinic")
        .get(pk=request.pk)
    )


def _move(locked: RecordsRequest, to: RequestStatus, refusal: str) -> str:
    """Check the transition table; the status before."""
    if to not in TRANSITIONS[locked.status]:
        raise RecordsRequestError(f"{refusal} (it is {locked.get_status_display().lower()}).")
    before = locked.status
    locked.status = to
    return before


@transaction.atomic
def records_request_verify(
    *,
    context: AuditContext,
    user: User,
    request: RecordsRequest,
    method: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> RecordsRequest:
    """The requester's identity (and authority) checked, and how."""
    if method not in IdentityMethod.values:
        raise RecordsRequestError("Say how the requester's identity was verified.")
    locked = _locked(request)
    before = _move(locked, RequestStatus.VERIFIED, "Only a request just received is verified")
    locked.identity_method = method
    locked.identity_note = note
    locked.verified_at = now or timezone.now()
    locked.verified_by = user
    locked.save()
    _audit(
        context, locked, AuditAction.UPDATE, {"from": before, "to": locked.status, "how": method}
    )
    return locked


@transaction.atomic
def records_request_start(
    *, context: AuditContext, user: User, request: RecordsRequest
) -> RecordsRequest:
    """Someone is gathering the records."""
    locked = _locked(request)
    before = _move(
        locked, RequestStatus.IN_PROGRESS, "Verify the requester before gathering the records"
    )
    locked.save()
    _audit(context, locked, AuditAction.UPDATE, {"from": before, "to": locked.status})
    return locked


def _current(request: RecordsRequest) -> RecordsRequest:
    """The request as it is now, read without a lock: for the checks made before a letter is
    printed (the locked step checks again)."""
    return RecordsRequest.objects.select_related("patient", "clinic").get(pk=request.pk)


def _extension_refusal(current: RecordsRequest, now: dt.datetime) -> str | None:
    if current.status not in OPEN_STATUSES:
        return f"A request {current.get_status_display().lower()} needs no more time."
    if current.extended_at is not None:
        return (
            "This request has had its one extension already; it must be answered by "
            f"{current.due_at.astimezone(clinic_zone(current.clinic_id)):%b %-d, %Y}."
        )
    if current.due_at < now:
        return "The 30 days have passed: an extension must be sent before the request is due."
    return None


def records_request_extend(
    *,
    context: AuditContext,
    user: User,
    request: RecordsRequest,
    reason: str,
    now: dt.datetime | None = None,
) -> RecordsRequest:
    """The one 30-day extension: allowed while the request is open and not yet late, once,
    and only with the letter telling the requester why (printed and filed here)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise RecordsRequestError("Say why more time is needed: the requester is told in writing.")
    current = _current(request)
    refusal = _extension_refusal(current, now)
    if refusal:
        raise RecordsRequestError(refusal)
    # The letter is printed and filed before the step's transaction, so rendering never holds
    # the database's write lock; a step refused after it leaves the letter on the chart unsent.
    current.due_at = records_due(current.clinic_id, current.due_at, EXTENSION_DAYS)
    due = current.due_at.astimezone(clinic_zone(current.clinic_id)).date()
    letter = _letter(
        context=context,
        user=user,
        kind="extension",
        request=current,
        fields={"reason": reason, "due_date": f"{due:%B} {due.day}, {due.year}"},
    )
    return _extend_record(context=context, request=current, reason=reason, letter=letter, now=now)


@transaction.atomic
def _extend_record(
    *,
    context: AuditContext,
    request: RecordsRequest,
    reason: str,
    letter: Document,
    now: dt.datetime,
) -> RecordsRequest:
    locked = _locked(request)
    refusal = _extension_refusal(locked, now)
    if refusal:
        raise RecordsRequestError(refusal)
    locked.due_at = records_due(locked.clinic_id, locked.due_at, EXTENSION_DAYS)
    locked.extension_reason = reason
    locked.extended_at = now
    locked.extension_letter = letter
    locked.save()
    _audit(
        context,
        locked,
        AuditAction.UPDATE,
        {"extended": True, "letter": letter.pk, "due": locked.due_at.isoformat()},
    )
    desk_changed(locked.clinic_id)
    return locked


def records_request_send(
    *,
    context: AuditContext,
    user: User,
    request: RecordsRequest,
    what: str,
    how: str,
    pages: int | None = None,
    fee: Decimal | None = None,
    now: dt.datetime | None = None,
) -> RecordsRequest:
    """The records released: what and how, the fee (the clinic's schedule unless typed), the
    cover letter filed to the patient, and the release kept as a disclosure."""
    now = now or timezone.now()
    what = what.strip()
    if not what:
        raise RecordsRequestError("Say what was sent.")
    if how not in Delivery.values:
        raise RecordsRequestError("Say how the records were sent.")
    if fee is not None and fee < 0:
        raise RecordsRequestError("The fee cannot be negative.")
    current = _current(request)
    _move(current, RequestStatus.SENT, SEND_REFUSAL)
    charged = fee if fee is not None else records_fee_quote(current.clinic_id, how=how, pages=pages)
    letter = _letter(
        context=context,
        user=user,
        kind="cover",
        request=current,
        fields={
            "records_description": what,
            "how_sent": Delivery(how).label
            + (f", {pages} page{'s' if pages != 1 else ''}" if pages else ""),
            "fee": money_format(charged),
        },
    )
    return _send_record(
        context=context,
        user=user,
        request=current,
        what=what,
        how=how,
        pages=pages,
        fee=charged,
        letter=letter,
        now=now,
    )


SEND_REFUSAL = "Gather the records before sending them"


@transaction.atomic
def _send_record(
    *,
    context: AuditContext,
    user: User,
    request: RecordsRequest,
    what: str,
    how: str,
    pages: int | None,
    fee: Decimal,
    letter: Document,
    now: dt.datetime,
) -> RecordsRequest:
    locked = _locked(request)
    before = _move(locked, RequestStatus.SENT, SEND_REFUSAL)
    locked.sent_at = now
    locked.sent_what = what
    locked.sent_how = how
    locked.pages = pages
    locked.fee = fee
    locked.cover_letter = letter
    locked.save()
    disclosure = Disclosure.objects.create(
        clinic_id=locked.clinic_id,
        patient_id=locked.patient_id,
        request=locked,
        disclosed_at=now,
        recipient=locked.recipient,
        recipient_address=locked.delivery_to or locked.requester_address,
        what=what,
        purpose=locked.purpose or "At the patient's request",
        by=user,
    )
    _audit(
        context,
        locked,
        AuditAction.UPDATE,
        {
            "from": before,
            "to": locked.status,
            "how": how,
            "fee": str(fee),
            "letter": letter.pk,
            "disclosure": disclosure.pk,
        },
    )
    desk_changed(locked.clinic_id)
    return locked


DENY_REFUSAL = "This request can no longer be denied"


def records_request_deny(
    *,
    context: AuditContext,
    user: User,
    request: RecordsRequest,
    reason: str,
    now: dt.datetime | None = None,
) -> RecordsRequest:
    """The request refused, with the reason, in a letter that also tells the requester of
    their right to have a denial reviewed."""
    reason = reason.strip()
    if not reason:
        raise RecordsRequestError(
            "Say why the request is denied: the requester is told in writing."
        )
    current = _current(request)
    _move(current, RequestStatus.DENIED, DENY_REFUSAL)
    letter = _letter(
        context=context, user=user, kind="denial", request=current, fields={"reason": reason}
    )
    return _deny_record(
        context=context, request=current, reason=reason, letter=letter, now=now or timezone.now()
    )


@transaction.atomic
def _deny_record(
    *,
    context: AuditContext,
    request: RecordsRequest,
    reason: str,
    letter: Document,
    now: dt.datetime,
) -> RecordsRequest:
    locked = _locked(request)
    before = _move(locked, RequestStatus.DENIED, DENY_REFUSAL)
    locked.denied_at = now
    locked.denial_reason = reason
    locked.denial_letter = letter
    locked.save()
    _audit(
        context,
        locked,
        AuditAction.UPDATE,
        {"from": before, "to": locked.status, "letter": letter.pk},
    )
    desk_changed(locked.clinic_id)
    return locked
