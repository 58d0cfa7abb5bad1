"""Letter pages: the clinic's templates (list, edit with a preview, put back the default) for
supervisors and administrators; a letter written from the chart; the correspondence timeline."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.letters import selectors, services
from frontdesk.letters.fields import FIELDS, merge, paragraphs, sample_values
from frontdesk.letters.forms import LetterIssueForm, LetterTemplateForm
from frontdesk.letters.models import LetterDelivery, LetterKind
from frontdesk.lib.ids import parse_id
from frontdesk.patients.selectors import access_patient


def _kind(letter_kind: str) -> str:
    if letter_kind not in LetterKind.values:
        raise Http404("There is no letter of that kind.")
    return letter_kind


@policy(Action.LETTER_TEMPLATE_EDIT)
def template_list_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    templates = selectors.letter_templates_of_clinic(clinic.pk)
    return render(request, "letters/templates.html", {"templates": templates})


@policy(Action.LETTER_TEMPLATE_EDIT)
def template_edit_view(request: HttpRequest, letter_kind: str) -> HttpResponse:
    """The template's words beside the fields it may use; "Preview" shows it filled with
    sample values (no patient's), "Save" keeps it. A refusal keeps what was typed."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    kind = _kind(letter_kind)
    current = selectors.letter_template_current(clinic.pk, kind)
    preview = None
    if request.method == "POST":
        form = LetterTemplateForm(request.POST)
        if form.is_valid():
            subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
            try:
                if request.POST.get("preview"):
                    subject, body = services.letter_template_check(
                        kind=kind, subject=subject, body=body
                    )
                    values = sample_values(kind)
                    preview = {
                        "subject": merge(subject, values),
                        "paragraphs": paragraphs(merge(body, values)),
                    }
                else:
                    services.letter_template_save(
                        context=audit_context(request),
                        user=user,
                        clinic=clinic,
                        kind=kind,
                        subject=subject,
                        body=body,
                    )
                    messages.success(request, f"Saved. New letters “{current.label}” use it.")
                    return redirect("letters:templates")
            except services.LetterError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
    else:
        form = LetterTemplateForm(initial={"subject": current.subject, "body": current.body})
    context = {
        "form": form,
        "current": current,
        "fields": FIELDS[kind].values(),
        "preview": preview,
    }
    return render(request, "letters/template_edit.html", context)


@policy(Action.LETTER_TEMPLATE_EDIT)
@require_POST
def template_reset_view(request: HttpRequest, letter_kind: str) -> HttpResponse:
    kind = _kind(letter_kind)
    user = staff_user(request)
    if services.letter_template_reset(
        context=audit_context(request), clinic=staff_clinic(user), kind=kind
    ):
        messages.success(
            request, "The default text is back. The clinic's text is kept in the audit trail."
        )
    else:
        messages.info(request, "This letter already has the default text.")
    return redirect("letters:template_edit", letter_kind=kind)


@policy(Action.LETTER_ISSUE)
def letter_new_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Write a letter about one of the patient's visits; printed, it opens as a PDF."""
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    visits = selectors.letter_visits(patient, now=timezone.now())
    if request.method == "POST":
        form = LetterIssueForm(request.POST, visits=visits)
        if form.is_valid():
            delivery = form.cleaned_data["delivery"]
            try:
                document = services.letter_issue(
                    context=audit_context(request),
                    actor=user,
                    patient=patient,
                    kind=form.cleaned_data["kind"],
                    appointment=form.cleaned_data["appointment"],
                    delivery=delivery,
                )
            except services.LetterError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                if delivery == LetterDelivery.PRINT:
                    return redirect("documents:content", file_id=document.pk)
                messages.success(
                    request,
                    "The letter is filed to the chart and waiting to be sent."
                    if delivery == LetterDelivery.MESSAGE
                    else "The letter is filed to the chart.",
                )
                return redirect(reverse("patients:chart", args=[patient.pk]) + "#letters-heading")
    else:
        # The visit's page links here with the letter and the visit chosen.
        kind = request.GET.get("kind", "")
        initial = {
            "kind": kind if kind in LetterKind.values else "",
            "appointment": parse_id(request.GET.get("appointment", "")),
        }
        form = LetterIssueForm(initial=initial, visits=visits)
    return render(request, "letters/new.html", {"form": form, "patient": patient})


@policy(Action.CORRESPONDENCE_VIEW)
def correspondence_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, entries = selectors.correspondence_for_view(
        staff_user(request), context=audit_context(request), patient_id=patient_id
    )
    return render(request, "letters/correspondence.html", {"patient": patient, "entries": entries})
