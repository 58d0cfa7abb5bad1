"""Letters: the clinic's templates saved or put back to the default, and a letter issued to a
patient's chart (printed to PDF, filed as correspondence, printed or sent). Each write audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic, Location
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.documents.services import document_generated_record
from frontdesk.documents.storage import (
    DocumentsRefusedError,
    StoredFile,
    Upload,
    document_files_remove,
    document_files_store,
)
from frontdesk.letters.fields import (
    FIELDS,
    UnknownFieldError,
    fields_check,
    fields_used,
    merge,
    paragraphs,
)
from frontdesk.letters.messages import LETTER_KIND
from frontdesk.letters.models import (
    BODY_MAX,
    SUBJECT_MAX,
    Letter,
    LetterDelivery,
    LetterKind,
    LetterTemplate,
)
from frontdesk.letters.selectors import letter_template_current
from frontdesk.lib.addresses import address_lines
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.pdf import pdf_render
from frontdesk.messaging.channels import consented_channels
from frontdesk.messaging.outbox import outbox_add
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment


class LetterError(ValueError):
    """The letter cannot be saved or issued; the message says why in the officer's words.
    `field` names the form field it is about, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- Templates ----------------------------------------------------------------------------------


def letter_template_check(*, kind: str, subject: str, body: str) -> tuple[str, str]:
    """The subject and body as they will be stored, or a refusal naming the field."""
    if kind not in LetterKind.values:
        raise LetterError("There is no letter of that kind.")
    subject = " ".join(subject.split())
    body = "\n".join(line.rstrip() for line in body.replace("\r\n", "\n").split("\n")).strip()
    if not subject:
        raise LetterError("Give the letter a subject.", field="subject")
    if len(subject) > SUBJECT_MAX:
        raise LetterError(f"Keep the subject to {SUBJECT_MAX} characters or fewer.", "subject")
    if not body:
        raise LetterError("Write the letter's text.", field="body")
    if len(body) > BODY_MAX:
        raise LetterError(f"Keep the letter to {BODY_MAX} characters or fewer.", field="body")
    if "\x00" in subject or "\x00" in body:
        raise LetterError("The text holds a null character, which cannot be saved.", "body")
    for name, text in (("subject", subject), ("body", body)):
        try:
            fields_check(kind, text)
        except UnknownFieldError as error:
            raise LetterError(str(error), field=name) from None
    return subject, body


@transaction.atomic
def letter_template_save(
    *,
    context: AuditContext,
    user: User,
    clinic: Clinic,
    kind: str,
    subject: str,
    body: str,
    now: dt.datetime | None = None,
) -> LetterTemplate:
    """Save the clinic's own words for `kind`. A field the kind does not declare is refused,
    named, and nothing is saved."""
    subject, body = letter_template_check(kind=kind, subject=subject, body=body)
    template, created = LetterTemplate.objects.select_for_update().update_or_create(
        clinic=clinic,
        kind=kind,
        defaults={
            "subject": subject,
            "body": body,
            "updated_at": now or timezone.now(),
            "updated_by": user,
        },
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=AuditObject.LETTER_TEMPLATE,
        object_id=template.pk,
        detail={"kind": kind, "subject": subject, "body": body},
    )
    return template


@transaction.atomic
def letter_template_reset(*, context: AuditContext, clinic: Clinic, kind: str) -> bool:
    """Put the built-in words back for `kind`; the clinic's text stays in the audit trail.
    False when the kind had the default already."""
    template = LetterTemplate.objects.select_for_update().filter(clinic=clinic, kind=kind).first()
    if template is None:
        return False
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.LETTER_TEMPLATE,
        object_id=template.pk,
        detail={"kind": kind, "reset": True, "subject": template.subject, "body": template.body},
    )
    template.delete()
    return True


# --- Issuing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Addressee:
    """Who a letter goes to, when it is not the patient (a referrer, a records requester)."""

    name: str
    lines: Sequence[str] = ()  # the postal address, line by line


@dataclass(frozen=True)
class LetterText:
    """A letter merged and ready to print."""

    subject: str
    paragraphs: list[list[str]]


def _date_words(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _clinic_location(clinic: Clinic, appointment: Appointment | None) -> Location | None:
    if appointment is not None:
        return appointment.schedule.location
    return clinic.locations.order_by("pk").first()


def _standard_values(
    patient: Patient, appointment: Appointment | None, location: Location | None, today: dt.date
) -> dict[str, str]:
    values = {
        "patient_name": f"{patient.given_name} {patient.family_name}",
        "patient_first_name": patient.preferred_name or patient.given_name,
        "clinic_name": patient.clinic.name,
        "clinic_phone": location.phone if location is not None else "",
        "today": _date_words(today),
    }
    if appointment is not None:
        start = appointment.start.astimezone(clinic_zone(patient.clinic))
        visit_location = appointment.schedule.location
        values |= {
            "appointment_date": f"{start:%A}, {_date_words(start.date())}",
            "appointment_time": f"{start:%-I:%M %p}",
            "provider_name": str(appointment.provider),
            "appointment_type": appointment.appointment_type.name,
            "location_name": visit_location.name,
            "location_address": visit_location.address,
        }
    return values


def letter_text(*, kind: str, subject: str, body: str, values: Mapping[str, str]) -> LetterText:
    """The template merged with `values`; a field it uses with no value given is refused by
    name."""
    # A value given empty (a practice not typed) prints as nothing; one not given is refused.
    missing = [name for name in fields_used(subject + "\n" + body) if name not in values]
    if missing:
        meanings = "; ".join(f"{{{name}}} ({FIELDS[kind][name].meaning})" for name in missing)
        raise LetterError(f"The letter needs what it says about: {meanings}.")
    return LetterText(
        subject=" ".join(merge(subject, values).split())[:SUBJECT_MAX],
        paragraphs=paragraphs(merge(body, values)),
    )


def letter_html(
    *,
    clinic: Clinic,
    location: Location | None,
    text: LetterText,
    date: dt.date,
    addressee: str,
    address: Sequence[str],
    regarding: str = "",
) -> str:
    """The letter as a complete HTML page for the PDF renderer (its style inline)."""
    return render_to_string(
        "letters/letter.html",
        {
            "clinic": clinic,
            "location": location,
            "date": _date_words(date),
            "addressee": addressee,
            "address": list(address),
            "regarding": regarding,
            "subject": text.subject,
            "paragraphs": text.paragraphs,
        },
    )


def letter_pdf(html: str) -> bytes:
    """The PDF of a letter, or a refusal in words (nothing is kept by the caller)."""
    try:
        return pdf_render(html)
    # WeasyPrint fails in many ways (a font, a layout, memory); each is the same to the desk.
    except Exception:
        raise LetterError(
            "The letter could not be printed to PDF, so nothing was saved or sent. Try again; "
            "if it happens again, tell the supervisor which letter it was."
        ) from None


def letter_unfiled(
    *,
    clinic: Clinic,
    kind: str,
    fields: Mapping[str, str],
    addressee: Addressee,
    now: dt.datetime | None = None,
) -> bytes:
    """A letter of `kind` from the clinic's template (or the default) to someone with no chart
    (an anonymous complainant), printed to PDF with the letterhead and the date in the clinic's
    zone, and handed back unfiled: the caller keeps it with its own record. `fields` gives
    every value the kind declares beyond the clinic's and the date, the patient's name
    fields included (what the letter calls the person it is written to)."""
    if kind not in LetterKind.values:
        raise LetterError("Choose which letter to write.")
    today = (now or timezone.now()).astimezone(clinic_zone(clinic)).date()
    location = _clinic_location(clinic, None)
    template = letter_template_current(clinic.pk, kind)
    values = {
        "clinic_name": clinic.name,
        "clinic_phone": location.phone if location is not None else "",
        "today": _date_words(today),
    } | {name: value.strip() for name, value in fields.items() if name in FIELDS[kind]}
    text = letter_text(kind=kind, subject=template.subject, body=template.body, values=values)
    return letter_pdf(
        letter_html(
            clinic=clinic,
            location=location,
            text=text,
            date=today,
            addressee=addressee.name,
            address=addressee.lines,
        )
    )


def letter_issue(
    *,
    context: AuditContext,
    actor: User,
    patient: Patient,
    kind: str,
    fields: Mapping[str, str] | None = None,
    appointment: Appointment | None = None,
    addressee: Addressee | None = None,
    delivery: str = LetterDelivery.FILED,
    now: dt.datetime | None = None,
) -> Document:
    """Write a letter of `kind` from the clinic's template (or the default), print it to PDF
    with the clinic's letterhead and the date in its time zone, addressed to the patient at
    their home address (or to `addressee`), and file it to the patient's chart as
    correspondence. `fields` gives the values the kind declares beyond those Frontdesk knows
    (the patient's, the clinic's, the visit's). `delivery`: filed only, printed (the caller
    opens the PDF), or queued to the patient by their agreed channel through the outbox.

    The PDF is printed and its file written before the transaction, so the slow part never
    holds the database's write lock; if anything fails, nothing is kept."""
    now = now or timezone.now()
    if actor.clinic_id is None or patient.clinic_id != actor.clinic_id:
        raise LetterError("That patient is not one of this clinic's.")
    if kind not in LetterKind.values:
        raise LetterError("Choose which letter to write.")
    if delivery not in LetterDelivery.values:
        raise LetterError("Choose whether to print the letter or send it.")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise LetterError("That visit is not this patient's.")
    if delivery == LetterDelivery.MESSAGE and not consented_channels(patient):
        raise LetterError(
            "This patient has not agreed to email or text messages (or has no email address or "
            "mobile number on file). Print the letter instead.",
            field="delivery",
        )
    clinic = patient.clinic
    today = now.astimezone(clinic_zone(clinic)).date()
    location = _clinic_location(clinic, appointment)
    template = letter_template_current(clinic.pk, kind)
    values = _standard_values(patient, appointment, location, today) | {
        name: value.strip() for name, value in (fields or {}).items() if name in FIELDS[kind]
    }
    text = letter_text(kind=kind, subject=template.subject, body=template.body, values=values)
    to_patient = addressee is None
    name = values["patient_name"] if addressee is None else addressee.name
    pdf = letter_pdf(
        letter_html(
            clinic=clinic,
            location=location,
            text=text,
            date=today,
            addressee=name,
            address=address_lines(patient) if addressee is None else addressee.lines,
            regarding="" if to_patient else f"{values['patient_name']} (MRN {patient.mrn})",
        )
    )
    try:
        stored = document_files_store([Upload(name=f"{LetterKind(kind).label}.pdf", data=pdf)])
    except DocumentsRefusedError as refused:
        raise LetterError(" ".join(refused.problems)) from None
    try:
        return _letter_record(
            context=context,
            actor=actor,
            patient=patient,
            kind=kind,
            stored=stored[0],
            subject=text.subject,
            addressee=name,
            appointment=appointment,
            delivery=delivery,
            now=now,
        )
    except BaseException:
        document_files_remove(stored)
        raise


@transaction.atomic
def _letter_record(
    *,
    context: AuditContext,
    actor: User,
    patient: Patient,
    kind: str,
    stored: StoredFile,
    subject: str,
    addressee: str,
    appointment: Appointment | None,
    delivery: str,
    now: dt.datetime,
) -> Document:
    document = document_generated_record(
        context=context,
        user=actor,
        patient=patient,
        stored=stored,
        kind=DocumentKind.CORRESPONDENCE,
        title=subject,
        appointment=appointment,
        now=now,
    )
    letter = Letter.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        document=document,
        appointment=appointment,
        addressee=addressee[:200],
        subject=subject,
        delivery=delivery,
        issued_at=now,
        issued_by=actor,
    )
    if delivery == LetterDelivery.MESSAGE:
        outbox_add(kind=LETTER_KIND, object_id=letter.pk, patient=patient, now=now)
    audit_record(
        context=context,
        action=AuditAction.PRINT if delivery == LetterDelivery.PRINT else AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.LETTER,
        object_id=letter.pk,
        detail={"kind": kind, "document": document.pk, "delivery": delivery},
    )
    return document
