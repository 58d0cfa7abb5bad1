"""Documents: upload (to the filing inbox or straight to a chart), filing, moving a misfiled one.

Each write records its own audit event; a change to the filing inbox raises the desk's version
(desk/live.py), since unfiled documents are desk work (documents/desk.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.desk.live import desk_changed
from frontdesk.documents.models import (
    Document,
    DocumentKind,
    DocumentMove,
    DocumentSource,
)
from frontdesk.documents.storage import (
    DocumentOrphan,
    StoredFile,
    Upload,
    document_files_remove,
    document_files_store,
)
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment


class DocumentFilingError(ValueError):
    """The filing or move cannot be done; the message says why in the desk's words."""


def documents_upload(
    *,
    context: AuditContext,
    user: User,
    clinic: Clinic,
    uploads: Sequence[Upload],
    source: DocumentSource = DocumentSource.UPLOAD,
    patient: Patient | None = None,
    kind: str = "",
    title: str = "",
    now: dt.datetime | None = None,
) -> list[Document]:
    """Keep these files as documents: filed to `patient` as `kind` when given, else unfiled in
    the clinic's filing inbox. Every file is checked first (DocumentsRefusedError names each
    refusal, and nothing is kept); the files are written before the transaction that records
    them, so the slow part never holds the database's write lock, and removed if it fails."""
    if patient is not None and kind not in DocumentKind.values:
        raise DocumentFilingError("Choose what kind of document this is.")
    stored = document_files_store(uploads)
    try:
        return _documents_record(
            context=context,
            user=user,
            clinic=clinic,
            stored=stored,
            source=source,
            patient=patient,
            kind=kind,
            title=title,
            now=now or timezone.now(),
        )
    except BaseException:
        document_files_remove(stored)
        raise


@transaction.atomic
def _documents_record(
    *,
    context: AuditContext,
    user: User,
    clinic: Clinic,
    stored: Sequence[StoredFile],
    source: DocumentSource,
    patient: Patient | None,
    kind: str,
    title: str,
    now: dt.datetime,
) -> list[Document]:
    documents = [
        Document(
            clinic=clinic,
            patient=patient,
            kind=kind if patient is not None else "",
            title=title[:200],
            source=source,
            original_name=file.original_name,
            file=file.file,
            thumbnail=file.thumbnail,
            content_type=file.content_type,
            size=file.size,
            received_at=now,
            received_by=user,
            filed_at=now if patient is not None else None,
            filed_by=user if patient is not None else None,
        )
        for file in stored
    ]
    for document in documents:
        document.save(force_insert=True)
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk] if patient is not None else [],
        object_type=AuditObject.DOCUMENT,
        object_id=documents[0].pk if len(documents) == 1 else "",
        detail={
            "documents": [d.pk for d in documents],
            "filed": patient is not None,
            "kind": kind,
            "source": str(source),
        },
    )
    if patient is None:
        desk_changed(clinic.pk)
    return documents


@transaction.atomic
def document_generated_record(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    stored: StoredFile,
    kind: str,
    title: str,
    appointment: Appointment | None = None,
    now: dt.datetime | None = None,
) -> Document:
    """Record a file Frontdesk wrote itself (a letter, stored by `document_files_store` before
    the caller's transaction), filed at once to `patient` and, optionally, a visit of theirs.
    The caller removes the file if its transaction does not commit."""
    if kind not in DocumentKind.values:
        raise DocumentFilingError("Choose what kind of document this is.")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise DocumentFilingError("That visit is not this patient's.")
    now = now or timezone.now()
    document = Document.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        appointment=appointment,
        kind=kind,
        title=title[:200],
        source=DocumentSource.LETTER,
        original_name=stored.original_name,
        file=stored.file,
        thumbnail=stored.thumbnail,
        content_type=stored.content_type,
        size=stored.size,
        received_at=now,
        received_by=user,
        filed_at=now,
        filed_by=user,
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.DOCUMENT,
        object_id=document.pk,
        detail={"documents": [document.pk], "filed": True, "kind": kind, "source": "letter"},
    )
    return document


@transaction.atomic
def document_file(
    *,
    context: AuditContext,
    user: User,
    document: Document,
    patient: Patient,
    kind: str,
    title: str | None = None,
    appointment: Appointment | None = None,
    now: dt.datetime | None = None,
) -> Document:
    """File a document (or re-classify a filed one): its patient, kind, title (None keeps it)
    and, optionally, the visit it belongs to. A filed document changes patient only by
    `document_move`."""
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if kind not in DocumentKind.values:
        raise DocumentFilingError("Choose what kind of document this is.")
    if locked.patient_id is not None and locked.patient_id != patient.pk:
        raise DocumentFilingError(
            "This document is filed to another patient. Use “Move to another patient”, which "
            "asks why."
        )
    if patient.clinic_id != locked.clinic_id:
        raise DocumentFilingError("That patient is not one of this clinic's.")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise DocumentFilingError("That visit is not this patient's.")
    was_unfiled = locked.patient_id is None
    locked.patient = patient
    locked.kind = kind
    if title is not None:
        locked.title = title[:200]
    locked.appointment = appointment
    if was_unfiled:
        locked.filed_at = now or timezone.now()
        locked.filed_by = user
    locked.save()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.DOCUMENT,
        object_id=locked.pk,
        detail={
            "filed": was_unfiled,
            "kind": kind,
            "appointment": appointment.pk if appointment else None,
        },
    )
    if was_unfiled:
        desk_changed(locked.clinic_id)
    return locked


@transaction.atomic
def document_move(
    *,
    context: AuditContext,
    user: User,
    document: Document,
    to_patient: Patient,
    reason: str,
    now: dt.datetime | None = None,
) -> DocumentMove:
    """Move a misfiled document to the right patient: the reason is required, the move is kept
    (`DocumentMove`) and recorded on both patients' access logs. The link to a visit of the
    wrong patient is dropped."""
    locked = Document.objects.select_for_update().get(pk=document.pk)
    reason = reason.strip()
    if not reason:
        raise DocumentFilingError("Say why the document is moved (for example, “wrong MRN”).")
    if locked.patient_id is None:
        raise DocumentFilingError("This document is not filed yet; file it instead.")
    if to_patient.pk == locked.patient_id:
        raise DocumentFilingError("The document is already filed to this patient.")
    if to_patient.clinic_id != locked.clinic_id:
        raise DocumentFilingError("That patient is not one of this clinic's.")
    moved_at = now or timezone.now()
    move = DocumentMove.objects.create(
        document=locked,
        from_patient_id=locked.patient_id,
        to_patient=to_patient,
        moved_at=moved_at,
        moved_by=user,
        reason=reason[:300],
    )
    from_patient_id = locked.patient_id
    locked.patient = to_patient
    locked.appointment = None
    locked.save(update_fields=["patient", "appointment"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[from_patient_id, to_patient.pk],
        object_type=AuditObject.DOCUMENT,
        object_id=locked.pk,
        detail={
            "moved_from": from_patient_id,
            "moved_to": to_patient.pk,
            "reason": move.reason,
        },
    )
    return move


@transaction.atomic
def document_orphans_delete(
    *, context: AuditContext, orphans: Sequence[DocumentOrphan]
) -> list[str]:
    """Remove orphaned document files (from `document_orphans`), checked against the rows again
    so a file is never removed while a document refers to it; audited by their random names."""
    names = [orphan.name for orphan in orphans]
    referenced = set(Document.objects.filter(file__in=names).values_list("file", flat=True)) | set(
        Document.objects.filter(thumbnail__in=names).values_list("thumbnail", flat=True)
    )
    removed = []
    for name in sorted(set(names) - referenced):
        try:
            default_storage.delete(name)
        except OSError:
            continue
        removed.append(name)
    audit_record(
        context=context,
        action=AuditAction.SYSTEM,
        object_type=AuditObject.DOCUMENT,
        detail={"orphans_removed": removed},
    )
    return removed
