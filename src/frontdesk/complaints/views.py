"""Complaints: intake at the desk, the list, one complaint with the supervisors' actions, the
response letter, the trends and the clinic's settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.complaints import selectors, services
from frontdesk.complaints.forms import (
    AcknowledgeForm,
    AssignForm,
    ComplaintForm,
    ComplaintSettingsForm,
    NoteForm,
    PrivacyReviewForm,
    ResponseForm,
)
from frontdesk.complaints.models import Category
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.form_posts import form_post_run
from frontdesk.lib.ids import parse_id
from frontdesk.lib.uploads import USER_FILE_HEADERS
from frontdesk.patients.selectors import access_patient


@policy(Action.COMPLAINT_VIEW)
def list_view(request: HttpRequest) -> HttpResponse:
    """The complaints this member of staff may see: supervisors all but those naming them,
    everyone else those they logged or own."""
    user = staff_user(request)
    open_only = request.GET.get("open") == "1"
    complaints = selectors.complaint_list_for_view(
        user, context=audit_context(request), open_only=open_only
    )
    rows = [(c, selectors.complaint_due(c)) for c in complaints]
    return render(
        request,
        "complaints/list.html",
        {"rows": rows, "open_only": open_only, "now": timezone.now()},
    )


@policy(Action.COMPLAINT_LOG)
def new_view(request: HttpRequest) -> HttpResponse:
    """Take a complaint in the officer's words, the service-recovery playbook beside the form.
    `?patient=<id>` starts it for that patient (from the chart or a call)."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    data = request.POST if request.method == "POST" else None
    patient_id = parse_id(request.GET.get("patient", ""))
    patient = access_patient(user, patient_id) if patient_id is not None else None
    form = ComplaintForm(
        data, initial={"patient": patient.pk if patient else None}, clinic_id=clinic.pk
    )
    if data is not None and form.is_valid():
        patient = form.cleaned_data["patient"]
        try:
            complaint = services.complaint_log(
                context=audit_context(request),
                user=user,
                patient=access_patient(user, patient.pk) if patient is not None else None,
                complainant=form.cleaned_data["complainant"],
                occurred_on=form.cleaned_data["occurred_on"],
                category=Category(form.cleaned_data["category"]),
                severity=form.cleaned_data["severity"],
                what_happened=form.cleaned_data["what_happened"],
                patient_wants=form.cleaned_data["patient_wants"],
                staff_involved=list(form.cleaned_data["staff_involved"]),
                resolved_at_desk=form.cleaned_data["resolved_at_desk"] == "yes",
                apologised=form.cleaned_data["apologised"],
                explained=form.cleaned_data["explained"],
                desk_action=form.cleaned_data["desk_action"],
                owner=form.cleaned_data["owner"],
            )
        except services.ComplaintRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            if complaint.is_grievance:
                messages.success(
                    request, "Complaint logged and escalated: a supervisor will acknowledge it."
                )
            else:
                messages.success(request, "Complaint logged as resolved at the desk.")
            return redirect("complaints:detail", complaint.pk)
    if data is not None:
        # What the form holds now: a patient of the clinic, or none (a bad id is said above).
        patient = form.cleaned_data.get("patient")
    return render(
        request,
        "complaints/new.html",
        {"form": form, "patient": patient},
        status=400 if data is not None else 200,
    )


def _detail(request: HttpRequest, complaint_id: int, **bound: forms.Form) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    page = selectors.complaint_for_view(
        user, context=audit_context(request), complaint_id=complaint_id
    )
    complaint = page.complaint
    zone = clinic_zone(clinic)
    context: dict[str, Any] = {
        "page": page,
        "complaint": complaint,
        "due": selectors.complaint_due(complaint),
        "now": timezone.now(),
        "manage": user.role == "supervisor",
        "ack_form": bound.get("ack_form") or AcknowledgeForm(),
        "note_form": bound.get("note_form") or NoteForm(),
        "review_form": bound.get("review_form") or PrivacyReviewForm(),
        "assign_form": bound.get("assign_form")
        or AssignForm(
            clinic_id=clinic.pk,
            initial={
                "owner": complaint.owner_id,
                "response_due": (
                    complaint.response_due.astimezone(zone).date()
                    if complaint.response_due
                    else None
                ),
            },
        ),
    }
    return render(request, "complaints/detail.html", context, status=400 if bound else 200)


@policy(Action.COMPLAINT_VIEW)
def detail_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    return _detail(request, complaint_id)


@policy(Action.COMPLAINT_MANAGE)
@require_POST
def acknowledge_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    user = staff_user(request)
    complaint = selectors.access_complaint(user, complaint_id)
    form = AcknowledgeForm(request.POST)
    if form_post_run(
        request,
        form,
        lambda data: services.complaint_acknowledge(
            context=audit_context(request),
            user=user,
            complaint=complaint,
            note=data["note"],
            letter=data["letter"],
        ),
        refused=services.ComplaintRefusedError,
        done=lambda data: (
            "Acknowledged. The letter is filed to the patient's chart under Correspondence, "
            "to print. The written response is next."
            if data["letter"]
            else "Acknowledged. The written response is next."
        ),
    ):
        return redirect("complaints:detail", complaint.pk)
    return _detail(request, complaint_id, ack_form=form)


@policy(Action.COMPLAINT_MANAGE)
@require_POST
def note_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    user = staff_user(request)
    complaint = selectors.access_complaint(user, complaint_id)
    form = NoteForm(request.POST)
    if form_post_run(
        request,
        form,
        lambda data: services.complaint_note_add(
            context=audit_context(request), user=user, complaint=complaint, text=data["text"]
        ),
        refused=services.ComplaintRefusedError,
        done="Note added.",
    ):
        return redirect("complaints:detail", complaint.pk)
    return _detail(request, complaint_id, note_form=form)


@policy(Action.COMPLAINT_MANAGE)
@require_POST
def assign_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    user = staff_user(request)
    complaint = selectors.access_complaint(user, complaint_id)
    form = AssignForm(request.POST, clinic_id=complaint.clinic_id)
    if form_post_run(
        request,
        form,
        lambda data: services.complaint_assign(
            context=audit_context(request),
            user=user,
            complaint=complaint,
            owner=data["owner"],
            response_due=data["response_due"],
        ),
        refused=services.ComplaintRefusedError,
        done="Owner and deadline saved.",
    ):
        return redirect("complaints:detail", complaint.pk)
    return _detail(request, complaint_id, assign_form=form)


@policy(Action.COMPLAINT_MANAGE)
@require_POST
def privacy_review_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    user = staff_user(request)
    complaint = selectors.access_complaint(user, complaint_id)
    form = PrivacyReviewForm(request.POST)
    if form_post_run(
        request,
        form,
        lambda data: services.privacy_review_close(
            context=audit_context(request),
            user=user,
            complaint=complaint,
            finding=data["finding"],
        ),
        refused=services.ComplaintRefusedError,
        done="Privacy review closed.",
    ):
        return redirect("complaints:detail", complaint.pk)
    return _detail(request, complaint_id, review_form=form)


@policy(Action.COMPLAINT_MANAGE)
def respond_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """Write the response; it is printed as a PDF letter from the clinic's template."""
    user = staff_user(request)
    complaint = selectors.access_complaint(user, complaint_id)
    form = ResponseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.complaint_respond(
                context=audit_context(request),
                user=user,
                complaint=complaint,
                body=form.cleaned_data["body"],
            )
        except services.ComplaintRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Response saved; the letter is ready to print or send.")
            return redirect("complaints:detail", complaint.pk)
    return render(
        request,
        "complaints/respond.html",
        {"form": form, "complaint": complaint},
        status=400 if request.method == "POST" else 200,
    )


@policy(Action.COMPLAINT_VIEW)
def letter_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """The response letter as the PDF kept with the complaint: a download, inert in a browser."""
    complaint, pdf = selectors.complaint_letter_for_view(
        staff_user(request), context=audit_context(request), complaint_id=complaint_id
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="complaint-{complaint.pk}-response.pdf"'
    )
    for header, value in USER_FILE_HEADERS.items():
        response[header] = value
    return response


@policy(Action.COMPLAINT_TRENDS)
def trends_view(request: HttpRequest) -> HttpResponse:
    """Complaints by category and month, time to resolution and grievances past their
    deadline: a chart and the same numbers in a table."""
    clinic = staff_clinic(staff_user(request))
    trends = selectors.complaint_trends(clinic_id=clinic.pk, now=timezone.now())
    return render(request, "complaints/trends.html", {"trends": trends, "chart": _chart(trends)})


# The chart's geometry (SVG user units): one bar per month, stacked by category.
_BAR_WIDTH, _BAR_GAP, _CHART_HEIGHT = 28, 12, 160


def _chart(trends: selectors.Trends) -> dict[str, Any]:
    scale = _CHART_HEIGHT / trends.largest if trends.largest else 0
    bars = []
    for index, month in enumerate(trends.months):
        x = index * (_BAR_WIDTH + _BAR_GAP)
        top: float = _CHART_HEIGHT
        parts = []
        for position, count in enumerate(month.by_category):
            height = count * scale
            top -= height
            if count:
                parts.append(
                    {
                        "y": round(top, 1),
                        "height": round(height, 1),
                        "category": position,
                        "label": f"{trends.categories[position]}: {count}",
                    }
                )
        bars.append({"x": x, "month": month, "parts": parts, "total_y": round(top - 4, 1)})
    return {
        "bars": bars,
        "width": len(trends.months) * (_BAR_WIDTH + _BAR_GAP),
        "height": _CHART_HEIGHT,
        "bar_width": _BAR_WIDTH,
        "label_y": _CHART_HEIGHT + 16,
    }


@policy(Action.COMPLAINT_SETTINGS)
def settings_view(request: HttpRequest) -> HttpResponse:
    """The clinic's deadlines for grievances and its privacy officer."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    held = selectors.complaint_settings(clinic.pk)
    form = ComplaintSettingsForm(
        request.POST if request.method == "POST" else None,
        clinic_id=clinic.pk,
        initial={
            "acknowledge_business_days": held.acknowledge_business_days,
            "response_days": held.response_days,
            "privacy_officer": held.privacy_officer_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.complaint_settings_save(
                context=audit_context(request),
                clinic_id=clinic.pk,
                acknowledge_business_days=form.cleaned_data["acknowledge_business_days"],
                response_days=form.cleaned_data["response_days"],
                privacy_officer=form.cleaned_data["privacy_officer"],
            )
        except services.ComplaintRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Complaint deadlines saved.")
            return redirect("complaints:settings")
    return render(
        request,
        "complaints/settings.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
