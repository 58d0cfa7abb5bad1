"""Reads of documents: fetched and authorised in one call; the audited reads end in `_for_view`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import patient_access_check, patients_shown
from frontdesk.scheduling.models import Appointment, AppointmentStatus

# The chart lists a patient's latest 200 documents (bench/documents.py times exactly that).
CHART_LIMIT = 200
INBOX_LIMIT = 100
# Visits a document may be filed to: from this long ago to this far ahead.
FILING_VISITS_BACK = dt.timedelta(days=180)
FILING_VISITS_AHEAD = dt.timedelta(days=180)


def _clinic_id(user: User) -> int:
    if user.clinic_id is None:  # an account of no clinic sees no clinic's records
        raise Http404("No clinic")
    return user.clinic_id


def access_document(user: User, document_id: int) -> Document:
    """The document, if this user may see it: same clinic; a filed one as its patient's record
    (restricted records need a grant; a merged record's documents are the survivor's); an
    unfiled one only to those who file (DOCUMENT_FILE). Anything else does not exist (404)."""
    try:
        document = Document.objects.select_related("patient").get(
            pk=document_id, clinic_id=_clinic_id(user)
        )
    except Document.DoesNotExist:
        raise Http404("No such document") from None
    if document.patient is None:
        if not role_may(user.role, Action.DOCUMENT_FILE):
            raise Http404("No such document")
        return document
    document.patient = patient_access_check(user, document.patient)
    return document


def patient_by_mrn(user: User, mrn: str) -> Patient | None:
    """The clinic's patient with this MRN, under `access_patient`'s rules (a merged record gives
    its survivor; a restricted one needs a grant), or None."""
    patient = Patient.objects.filter(clinic_id=_clinic_id(user), mrn=mrn).first()
    return None if patient is None else patient_access_check(user, patient)


def document_for_view(user: User, *, context: AuditContext, document_id: int) -> Document:
    """`access_document` for the document's page, recorded as a look at the patient's record."""
    document = access_document(user, document_id)
    patients_shown(
        context=context,
        patient_ids=[document.patient.pk] if document.patient else [],
        page=AuditObject.DOCUMENT,
        object_id=document.pk,
    )
    return document


def document_content_for_view(
    user: User, *, context: AuditContext, document_id: int, thumbnail: bool = False
) -> Document:
    """`access_document` for its file (or thumbnail): each opening is on the access log."""
    document = access_document(user, document_id)
    if thumbnail and not document.thumbnail:
        raise Http404("No thumbnail")
    patients_shown(
        context=context,
        patient_ids=[document.patient.pk] if document.patient else [],
        page=AuditObject.DOCUMENT_CONTENT,
        object_id=document.pk,
        detail={"thumbnail": thumbnail},
    )
    return document


def inbox_for_view(user: User, *, context: AuditContext) -> list[Document]:
    """The clinic's unfiled documents, oldest first (one query), recorded as a look."""
    documents = list(
        Document.objects.filter(clinic_id=_clinic_id(user), patient__isnull=True)
        .select_related("received_by")
        .order_by("received_at", "pk")[:INBOX_LIMIT]
    )
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        object_type=AuditObject.DOCUMENT_INBOX,
        detail={"documents": [d.pk for d in documents]},
    )
    return documents


def unfiled_count(clinic_id: int) -> int:
    return Document.objects.filter(clinic_id=clinic_id, patient__isnull=True).count()


@dataclass(frozen=True)
class KindGroup:
    kind: str
    label: str
    documents: list[Document]


def patient_documents(patient_id: int, *, limit: int = CHART_LIMIT) -> QuerySet[Document]:
    """A patient's documents by kind, then newest first (the `document_chart` index)."""
    return (
        Document.objects.filter(patient_id=patient_id)
        .only("pk", "kind", "title", "original_name", "received_at", "content_type", "thumbnail")
        .order_by("kind", "-received_at", "-pk")[:limit]
    )


def patient_documents_grouped(patient_id: int) -> list[KindGroup]:
    """The chart's list: one query, grouped by kind in the order of `DocumentKind`."""
    by_kind: dict[str, list[Document]] = {}
    for document in patient_documents(patient_id):
        by_kind.setdefault(document.kind, []).append(document)
    return [
        KindGroup(kind, label, by_kind[kind])
        for kind, label in DocumentKind.choices
        if kind in by_kind
    ]


def filing_visits(patient: Patient, *, now: dt.datetime) -> list[Appointment]:
    """The patient's visits a document may be filed to (not cancelled), nearest first."""
    return list(
        Appointment.objects.filter(
            patient=patient,
            start__gte=now - FILING_VISITS_BACK,
            start__lte=now + FILING_VISITS_AHEAD,
        )
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.ENTERED_IN_ERROR])
        .select_related("provider")
        .order_by("-start")[:30]
    )
