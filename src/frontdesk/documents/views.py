"""The filing inbox, uploads (to the inbox or a chart), a document's page, filing, moving, and
its file served through the policy and the audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.documents import selectors, services
from frontdesk.documents.forms import FilingForm, MoveForm, UploadForm
from frontdesk.documents.models import Document, DocumentSource
from frontdesk.documents.storage import DocumentsRefusedError, Upload, document_max_bytes
from frontdesk.lib.uploads import user_file_response
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patients_shown

NO_SUCH_MRN = (
    "No patient of this clinic has that MRN. Search for the patient and copy the MRN from the "
    "chart."
)


def _uploads(form: UploadForm) -> tuple[list[Upload], DocumentSource]:
    scanned = form.cleaned_data.get("scan") or []
    files = [*(form.cleaned_data.get("upload") or []), *scanned]
    source = (
        DocumentSource.SCAN
        if scanned and not form.cleaned_data.get("upload")
        else DocumentSource.UPLOAD
    )
    # Read whole: files are checked from their bytes; the size was bounded by the request limit
    # and is checked against DOCUMENT_MAX_MB by the service.
    return [Upload(name=f.name or "file", data=f.read()) for f in files], source


def _upload(
    request: HttpRequest, form: UploadForm, patient: Patient | None
) -> list[Document] | None:
    uploads, source = _uploads(form)
    try:
        return services.documents_upload(
            context=audit_context(request),
            user=staff_user(request),
            clinic=staff_clinic(staff_user(request)),
            uploads=uploads,
            source=source,
            patient=patient,
            kind=form.cleaned_data.get("kind") or "",
            title=form.cleaned_data.get("title") or "",
        )
    except DocumentsRefusedError as refused:
        for problem in refused.problems:
            form.add_error("upload", problem)
    except services.DocumentFilingError as error:
        form.add_error(None, str(error))
    return None


@policy(Action.DOCUMENT_FILE)
def inbox_view(request: HttpRequest) -> HttpResponse:
    """Unfiled documents, oldest first, and the upload form: what arrives goes here first."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        documents = _upload(request, form, None)
        if documents is not None:
            messages.success(
                request,
                f"{len(documents)} document{'s' if len(documents) != 1 else ''} added to the "
                "filing inbox.",
            )
            return redirect("documents:inbox")
    documents = selectors.inbox_for_view(staff_user(request), context=audit_context(request))
    status = 400 if form.errors else 200
    return render(
        request,
        "documents/inbox.html",
        {"form": form, "documents": documents, "max_mb": document_max_bytes() // 1_048_576},
        status=status,
    )


@policy(Action.DOCUMENT_UPLOAD)
def patient_upload_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Documents straight onto a chart: the kind is asked for, since they are filed at once."""
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    form = UploadForm(request.POST or None, request.FILES or None, kind_required=True)
    if request.method == "POST" and form.is_valid():
        documents = _upload(request, form, patient)
        if documents is not None:
            messages.success(request, f"{len(documents)} filed to the chart.")
            return redirect("patients:chart", patient_id=patient.pk)
    patients_shown(
        context=audit_context(request), patient_ids=[patient.pk], page=AuditObject.DOCUMENT
    )
    return render(
        request,
        "documents/upload.html",
        {"form": form, "patient": patient, "max_mb": document_max_bytes() // 1_048_576},
        status=400 if form.errors else 200,
    )


@policy(Action.DOCUMENT_VIEW)
def document_view(request: HttpRequest, file_id: int) -> HttpResponse:
    user = staff_user(request)
    document = selectors.document_for_view(
        user, context=audit_context(request), document_id=file_id
    )
    can_file = role_may(user.role, Action.DOCUMENT_FILE)
    form = None
    if can_file:
        visits = (
            selectors.filing_visits(document.patient, now=timezone.now())
            if document.patient
            else []
        )
        form = FilingForm(
            visits=visits,
            initial={
                "mrn": document.patient.mrn if document.patient else "",
                "kind": document.kind,
                "title": document.title,
                "appointment": document.appointment_id,
            },
        )
    return render(
        request,
        "documents/document.html",
        {
            "document": document,
            "form": form,
            "can_file": can_file,
            "can_register_referral": role_may(user.role, Action.REFERRAL_MANAGE),
        },
    )


@policy(Action.DOCUMENT_FILE)
def document_file_view(request: HttpRequest, file_id: int) -> HttpResponse:
    """File (or re-classify) a document: the patient by MRN, its kind, optionally a visit."""
    user = staff_user(request)
    document = selectors.access_document(user, file_id)
    if request.method != "POST":
        return redirect("documents:document", file_id=document.pk)
    visits = (
        selectors.filing_visits(document.patient, now=timezone.now()) if document.patient else []
    )
    form = FilingForm(request.POST, visits=visits)
    if form.is_valid():
        patient = selectors.patient_by_mrn(user, form.cleaned_data["mrn"])
        if patient is None:
            form.add_error("mrn", NO_SUCH_MRN)
        else:
            try:
                services.document_file(
                    context=audit_context(request),
                    user=user,
                    document=document,
                    patient=patient,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    appointment=form.cleaned_data.get("appointment"),
                )
            except services.DocumentFilingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Filed to {patient.family_name}, {patient.given_name} (MRN {patient.mrn}).",
                )
                return redirect("documents:document", file_id=document.pk)
    return render(
        request,
        "documents/document.html",
        {"document": document, "form": form, "can_file": True},
        status=400,
    )


@policy(Action.DOCUMENT_FILE)
def document_move_view(request: HttpRequest, file_id: int) -> HttpResponse:
    """A misfiled document to the right patient, with the reason; the move is audited."""
    user = staff_user(request)
    document = selectors.access_document(user, file_id)
    if document.patient is None:
        raise Http404("Not filed")
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        to_patient = selectors.patient_by_mrn(user, form.cleaned_data["mrn"])
        if to_patient is None:
            form.add_error("mrn", NO_SUCH_MRN)
        else:
            try:
                services.document_move(
                    context=audit_context(request),
                    user=user,
                    document=document,
                    to_patient=to_patient,
                    reason=form.cleaned_data["reason"],
                )
            except services.DocumentFilingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Moved to {to_patient.family_name}, {to_patient.given_name} "
                    f"(MRN {to_patient.mrn}).",
                )
                return redirect("documents:document", file_id=document.pk)
    else:
        patients_shown(
            context=audit_context(request),
            patient_ids=[document.patient.pk],
            page=AuditObject.DOCUMENT,
            object_id=document.pk,
        )
    return render(
        request,
        "documents/move.html",
        {"document": document, "form": form},
        status=400 if form.errors else 200,
    )


def _served(document: Document, name: str, *, label: str) -> HttpResponseBase:
    try:
        stream = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    # Typed from the stored bytes, sandboxed and nosniff (lib/uploads.py); a PDF or a picture
    # is shown, anything else downloaded.
    return user_file_response(stream, name=label, pdf_inline=True)


@policy(Action.DOCUMENT_VIEW)
def document_content_view(request: HttpRequest, file_id: int) -> HttpResponseBase:
    document = selectors.document_content_for_view(
        staff_user(request), context=audit_context(request), document_id=file_id
    )
    return _served(document, document.file, label=f"document-{document.pk}")


@policy(Action.DOCUMENT_VIEW)
def document_thumbnail_view(request: HttpRequest, file_id: int) -> HttpResponseBase:
    document = selectors.document_content_for_view(
        staff_user(request), context=audit_context(request), document_id=file_id, thumbnail=True
    )
    return _served(document, document.thumbnail, label=f"document-{document.pk}-page-1")
