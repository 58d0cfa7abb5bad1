"""Insurance coverages on the chart, card images, and the clinic's payer table."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.lib.uploads import user_file_response
from frontdesk.patients import services, validation
from frontdesk.patients.forms import CoverageForm, PayerForm
from frontdesk.patients.models import Coverage, Payer
from frontdesk.patients.selectors import access_patient, patients_shown


@policy(Action.COVERAGE_EDIT)
def coverage_edit_view(
    request: HttpRequest, patient_id: int, coverage_id: int | None = None
) -> HttpResponse:
    user = staff_user(request)
    patient = access_patient(user, patient_id)
    coverage = get_object_or_404(Coverage, pk=coverage_id, patient=patient) if coverage_id else None
    form = CoverageForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        instance=coverage,
        clinic_id=patient.clinic_id,
        initial={"rank": 1 + patient.coverages.count()} if coverage is None else None,
    )
    if request.method == "POST" and form.is_valid():
        taken = patient.coverages.filter(rank=form.cleaned_data["rank"])
        if coverage is not None:
            taken = taken.exclude(pk=coverage.pk)
        if taken.exists():
            form.add_error("rank", "The patient already has coverage in that order.")
        else:
            services.coverage_save(
                context=audit_context(request),
                patient=patient,
                coverage=form.save(commit=False),
                is_new=coverage is None,
            )
            messages.success(request, "Insurance saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk],
        page=AuditObject.COVERAGE_FORM,
        object_id=coverage.pk if coverage else "",
    )
    status = 400 if form.errors else 200
    return render(
        request,
        "patients/coverage_form.html",
        {"form": form, "patient": patient, "coverage": coverage},
        status=status,
    )


@policy(Action.PATIENT_VIEW)
def coverage_card_view(
    request: HttpRequest, patient_id: int, coverage_id: int, side: str
) -> HttpResponseBase:
    """The insurance card image, served only through the policy and the audit trail."""
    patient = access_patient(staff_user(request), patient_id)
    coverage = get_object_or_404(Coverage, pk=coverage_id, patient=patient)
    image = coverage.card_front if side == "front" else coverage.card_back
    if side not in ("front", "back") or not image:
        raise Http404("No card image")
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk],
        page=AuditObject.COVERAGE_CARD,
        object_id=coverage.pk,
        detail={"side": side},
    )
    # The type comes from the stored bytes, never the stored name (older files kept the name
    # the uploader gave); the response carries the sandbox and nosniff headers.
    return user_file_response(image.open("rb"), name=f"insurance-card-{side}")


@policy(Action.PAYER_MANAGE)
def payer_list_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    payers = Payer.objects.filter(clinic=clinic).order_by("name")
    # A pattern saved before patterns were checked by RE2 may not be usable: say so here.
    rows = [(payer, validation.pattern_problem(payer.member_id_pattern)) for payer in payers]
    return render(request, "patients/payer_list.html", {"rows": rows})


@policy(Action.PAYER_MANAGE)
def payer_edit_view(request: HttpRequest, payer_id: int | None = None) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    payer = (
        get_object_or_404(Payer, pk=payer_id, clinic=clinic) if payer_id else Payer(clinic=clinic)
    )
    form = PayerForm(request.POST if request.method == "POST" else None, instance=payer)
    if request.method == "POST" and form.is_valid():
        if (
            Payer.objects.filter(clinic=clinic, name=form.cleaned_data["name"])
            .exclude(pk=payer.pk)
            .exists()
        ):
            form.add_error("name", "There is already a payer with that name.")
        else:
            services.payer_save(context=audit_context(request), payer=form.save(commit=False))
            messages.success(request, "Payer saved.")
            return redirect("patients:payers")
    status = 400 if form.errors else 200
    return render(
        request, "patients/payer_form.html", {"form": form, "payer": payer}, status=status
    )
