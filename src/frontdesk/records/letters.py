"""The letters a records request sends: the cover letter with what was sent, the extension
letter (why, and the new date) and the denial letter (the reason, and the right to a review).

One function, `letter_make`, renders a letter from its template here and keeps it as a document
on the patient (kind correspondence). Its shape is plain (kind, request, fields → Document) so
the clinic's own letter templates can take over behind it without changing a caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.services import AuditContext
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.documents.services import documents_upload
from frontdesk.documents.storage import Upload
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.pdf import pdf_from_template
from frontdesk.records.models import RecordsRequest, Requester

LETTERS: dict[str, tuple[str, str]] = {
    # kind: (template, title of the document)
    "cover": ("records/letter_cover.html", "Records release cover letter"),
    "extension": ("records/letter_extension.html", "Records request extension letter"),
    "denial": ("records/letter_denial.html", "Records request denial letter"),
}


def letter_make(
    *,
    context: AuditContext,
    user: User,
    kind: str,
    request: RecordsRequest,
    fields: Mapping[str, Any],
) -> Document:
    """The letter of this kind for this request, printed to PDF and filed to the patient."""
    template, title = LETTERS[kind]
    patient = request.patient
    zone = clinic_zone(request.clinic_id)
    addressee = (
        f"{patient.given_name} {patient.family_name}"
        if request.requester == Requester.PATIENT
        else request.requester_name or request.requester_organisation
    )
    pdf = pdf_from_template(
        template,
        {
            "clinic": request.clinic,
            "request": request,
            "patient": patient,
            "addressee": addressee,
            "address": request.delivery_to or request.requester_address,
            "date": timezone.now().astimezone(zone).date(),
            "received": request.received_at.astimezone(zone).date(),
            "due": request.due_at.astimezone(zone).date(),
            "signer": user.get_full_name() or user.username,
            **fields,
        },
    )
    # A rendered letter is a PDF the clinic made: it passes the same checks as any upload.
    (document,) = documents_upload(
        context=context,
        user=user,
        clinic=request.clinic,
        uploads=[Upload(name=f"records-{kind}-{request.pk}.pdf", data=pdf)],
        patient=patient,
        kind=DocumentKind.CORRESPONDENCE,
        title=title,
    )
    return document
