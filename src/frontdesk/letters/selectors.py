"""Reads of letters: the clinic's templates (its own words or the defaults), and the patient's
correspondence timeline; the audited reads end in `_for_view`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import AuditContext
from frontdesk.inquiries.models import CallbackAttempt, Channel, Inquiry
from frontdesk.letters.fields import DEFAULTS
from frontdesk.letters.models import Letter, LetterKind, LetterTemplate
from frontdesk.messaging.models import OutboxMessage
from frontdesk.messaging.outbox import outbox_kind_label
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patients_shown
from frontdesk.scheduling.models import Appointment


@dataclass(frozen=True)
class CurrentTemplate:
    kind: str
    label: str
    subject: str
    body: str
    is_default: bool
    updated_at: dt.datetime | None = None
    updated_by: str = ""


def _current(kind: str, stored: LetterTemplate | None) -> CurrentTemplate:
    label = LetterKind(kind).label
    if stored is None:
        subject, body = DEFAULTS[kind]
        return CurrentTemplate(kind=kind, label=label, subject=subject, body=body, is_default=True)
    return CurrentTemplate(
        kind=kind,
        label=label,
        subject=stored.subject,
        body=stored.body,
        is_default=False,
        updated_at=stored.updated_at,
        updated_by=(stored.updated_by.get_full_name() or stored.updated_by.username)
        if stored.updated_by
        else "",
    )


def letter_template_current(clinic_id: int, kind: str) -> CurrentTemplate:
    """The words a letter of `kind` is written with: the clinic's own, or the default."""
    stored = (
        LetterTemplate.objects.select_related("updated_by")
        .filter(clinic_id=clinic_id, kind=kind)
        .first()
    )
    return _current(kind, stored)


def letter_templates_of_clinic(clinic_id: int) -> list[CurrentTemplate]:
    """Every kind of letter with the words it is written with now (one query)."""
    stored = {
        t.kind: t
        for t in LetterTemplate.objects.select_related("updated_by").filter(clinic_id=clinic_id)
    }
    return [_current(kind, stored.get(kind)) for kind in LetterKind.values]


# --- The correspondence timeline ----------------------------------------------------------------

# The chart shows the latest entries of each source; older ones are on the full page.
CHART_LIMIT = 20
PAGE_LIMIT = 500


@dataclass(frozen=True)
class Correspondence:
    """One letter, message or call on the patient's timeline."""

    at: dt.datetime
    what: str  # "Letter", "Email or text", "Phone call"…
    summary: str
    status: str
    document_id: int | None = None


def _letters(patient: Patient, limit: int) -> list[Correspondence]:
    letters = Letter.objects.filter(patient=patient).order_by("-issued_at", "-pk")[:limit]
    return [
        Correspondence(
            at=letter.issued_at,
            what="Letter",
            summary=f"{letter.get_kind_display()}: {letter.subject} (to {letter.addressee})",
            status=letter.get_delivery_display(),
            document_id=letter.document_id,
        )
        for letter in letters
    ]


def _messages(patient: Patient, limit: int) -> list[Correspondence]:
    messages = OutboxMessage.objects.filter(patient=patient).order_by("-created_at", "-pk")[:limit]
    channel_words = {"email": "Email", "sms": "Text message"}
    return [
        Correspondence(
            at=message.sent_at or message.created_at,
            what=channel_words.get(message.channel, "Message"),
            summary=outbox_kind_label(message.kind),
            status=message.get_status_display(),
        )
        for message in messages
    ]


def _calls(patient: Patient, limit: int) -> list[Correspondence]:
    calls = (
        Inquiry.objects.filter(patient=patient, channel=Channel.PHONE)
        .order_by("-created_at", "-pk")
        .only("created_at", "category", "caller_kind", "channel")[:limit]
    )
    attempts = (
        CallbackAttempt.objects.filter(callback__patient=patient)
        .order_by("-at", "-pk")
        .only("at", "outcome")[:limit]
    )
    return [
        *(
            Correspondence(
                at=call.created_at,
                what="Phone call",
                summary=(
                    f"{call.get_category_display()} call from "
                    f"{call.get_caller_kind_display().lower()}"
                ),
                status="Logged",
            )
            for call in calls
        ),
        *(
            Correspondence(
                at=attempt.at,
                what="Call back",
                summary="The desk called back",
                status=attempt.get_outcome_display(),
            )
            for attempt in attempts
        ),
    ]


def correspondence_timeline(patient: Patient, *, limit: int = CHART_LIMIT) -> list[Correspondence]:
    """Every letter, message and call Frontdesk sent or logged for the patient, newest first
    (at most `limit`; four queries). The caller has opened the patient and records the look."""
    entries = [*_letters(patient, limit), *_messages(patient, limit), *_calls(patient, limit)]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def correspondence_for_view(
    user: User, *, context: AuditContext, patient_id: int
) -> tuple[Patient, list[Correspondence]]:
    """The patient (under `access_patient`'s rules) and their whole timeline, on their access
    log."""
    patient = access_patient(user, patient_id)
    entries = correspondence_timeline(patient, limit=PAGE_LIMIT)
    patients_shown(
        context=context,
        patient_ids=[patient.pk],
        page=AuditObject.CORRESPONDENCE,
        object_id=patient.pk,
    )
    return patient, entries


# Visits a letter may be about: from this long ago (a missed visit) to any time ahead.
VISITS_BACK = dt.timedelta(days=90)
VISITS_SHOWN = 50


def letter_visits(patient: Patient, *, now: dt.datetime) -> list[Appointment]:
    """The patient's visits a letter may be about, latest first (one query)."""
    return list(
        Appointment.objects.filter(patient=patient, start__gte=now - VISITS_BACK)
        .select_related("provider")
        .order_by("-start")[:VISITS_SHOWN]
    )
