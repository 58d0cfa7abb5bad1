"""The visit's estimate printed, the good-faith estimate given to a self-pay patient and the
financial assistance offered to them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.eligibility import estimates
from frontdesk.eligibility.assistance import band_list
from frontdesk.eligibility.forms import AssistanceForm
from frontdesk.lib.uploads import USER_FILE_HEADERS
from frontdesk.patients.selectors import patients_shown
from frontdesk.scheduling.selectors import access_appointment


@policy(Action.ELIGIBILITY_VIEW)
def estimate_pdf_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The visit's estimate as a PDF to hand to the patient (audited as a print)."""
    appointment, pdf = estimates.visit_estimate_pdf(
        user=staff_user(request),
        context=audit_context(request),
        appointment_id=appointment_id,
        now=timezone.now(),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="estimate-{appointment.pk}.pdf"'
    for header, value in USER_FILE_HEADERS.items():
        response[header] = value
    return response


@policy(Action.ELIGIBILITY_VERIFY)
@require_POST
def good_faith_estimate_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Give a self-pay patient the good-faith estimate: filed to the chart, to print from it."""
    try:
        document = estimates.good_faith_estimate_issue(
            user=staff_user(request),
            context=audit_context(request),
            appointment_id=appointment_id,
            now=timezone.now(),
        )
    except estimates.EstimateRefusedError as exc:
        messages.error(request, str(exc))
        return redirect("scheduling:appointment", appointment_id=appointment_id)
    messages.success(request, "The good-faith estimate is filed to the chart: print it from there.")
    return redirect("documents:document", file_id=document.pk)


@policy(Action.ELIGIBILITY_VERIFY)
def assistance_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Offer a self-pay patient financial assistance and record what they decided."""
    user = staff_user(request)
    form = AssistanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decision = estimates.assistance_record(
                user=user,
                context=audit_context(request),
                appointment_id=appointment_id,
                outcome=form.cleaned_data["outcome"],
                household_size=form.cleaned_data["household_size"],
                income=form.cleaned_data["income"],
                now=timezone.now(),
            )
        except estimates.EstimateRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Financial assistance recorded: {decision.get_outcome_display().lower()}"
                + (f" ({decision.band})." if decision.band else "."),
            )
            return redirect("scheduling:appointment", appointment_id=appointment_id)
    appointment = access_appointment(user, appointment_id)
    scale = estimates.sliding_fee_scale(appointment.clinic_id)
    patients_shown(
        context=audit_context(request),
        patient_ids=[appointment.patient_id],
        page=AuditObject.FINANCIAL_ASSISTANCE,
        object_id=appointment.pk,
    )
    return render(
        request,
        "eligibility/assistance.html",
        {
            "form": form,
            "appointment": appointment,
            "found": estimates.appointment_estimate(appointment),
            "scale": scale,
            "bands": band_list(scale),
        },
        status=400 if request.method == "POST" else 200,
    )
