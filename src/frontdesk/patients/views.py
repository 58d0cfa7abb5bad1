from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.lib.masking import age_on
from frontdesk.patients import services
from frontdesk.patients.chart import chart_compose
from frontdesk.patients.models import SupervisorNotice
from frontdesk.patients.selectors import (
    access_patient,
    access_patient_for_break_glass,
    chart_for_view,
    household_for_view,
    patient_search_for_view,
)


@policy(Action.PATIENT_SEARCH)
def search_view(request: HttpRequest) -> HttpResponse:
    """The one search box. Every search is audited with its terms and the patients shown."""
    user = staff_user(request)
    query = request.GET.get("q", "")
    parsed, results = patient_search_for_view(user, context=audit_context(request), query=query)
    context = {
        "query": parsed.text,
        "found": results,
        "searched": bool(parsed.text),
        "can_register": role_may(user.role, Action.PATIENT_REGISTER),
    }
    template = "patients/_results.html" if request.htmx else "patients/search.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@policy(Action.PATIENT_VIEW)
def chart_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = staff_user(request)
    patient = chart_for_view(user, context=audit_context(request), patient_id=patient_id)
    coverages = list(patient.coverages.select_related("payer"))
    aliases = list(patient.aliases.all())
    addresses = list(patient.addresses.all())
    documents = list(patient.identity_documents.all())
    household = household_for_view(context=audit_context(request), patient=patient)
    now = timezone.now()
    today = timezone.localdate(now)
    chart = chart_compose(user=user, patient=patient, coverages=coverages, now=now, today=today)
    can_merge = role_may(user.role, Action.PATIENT_MERGE)
    context = {
        "patient": patient,
        "header": chart.header,
        "age": age_on(patient.birth_date, today),
        "coverages": coverages,
        "aliases": aliases,
        "addresses": addresses,
        "documents": documents,
        "household": household,
        "today": today,
        "can_edit_details": role_may(user.role, Action.PATIENT_REGISTER),
        "can_edit_coverage": role_may(user.role, Action.COVERAGE_EDIT),
        "can_merge": can_merge,
        "can_book": role_may(user.role, Action.APPOINTMENT_BOOK),
        "merges": list(patient.merges_kept.select_related("merged").order_by("-merged_at")[:10])
        if can_merge
        else [],
        "redirected_from": patient_id if patient.pk != patient_id else None,
        "can_see_access_log": role_may(user.role, Action.AUDIT_PATIENT_ACCESS),
        # The visits, the balance: what the apps above patients add (patients/chart.py).
        **chart.context,
    }
    return render(request, "patients/chart.html", context)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need this record now?",
        min_length=10,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say why you need this record.",
            "min_length": "Say a little more: at least 10 characters.",
        },
    )


@policy(Action.PATIENT_VIEW)
def break_glass_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A restricted record opens only after a reason is given; supervisors are told."""
    user = staff_user(request)
    patient = access_patient_for_break_glass(user, patient_id)
    chart_url = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    target = request.POST.get("next") or request.GET.get("next") or chart_url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = chart_url
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.break_glass_open(
            context=audit_context(request),
            user=user,
            patient=patient,
            reason=form.cleaned_data["reason"],
        )
        return HttpResponseRedirect(target)
    context = {"form": form, "mrn": patient.mrn, "next": target}
    return render(request, "patients/break_glass.html", context, status=400 if form.errors else 200)


@policy(Action.PATIENT_VIEW)
@require_POST
def reveal_view(request: HttpRequest, patient_id: int, field: str) -> HttpResponse:
    """Shows one masked value (birth date, phone, an identity document's number) in place;
    audited."""
    if field not in services.REVEALABLE_FIELDS and not field.startswith(
        services.DOCUMENT_FIELD_PREFIX
    ):
        raise Http404("No such field")
    patient = access_patient(staff_user(request), patient_id)
    try:
        value = services.patient_field_reveal(
            context=audit_context(request), patient=patient, field=field
        )
    except services.NoSuchFieldError:
        raise Http404("No such field") from None
    return HttpResponse(format_html('<span class="revealed">{}</span>', value))


@policy(Action.NOTICE_ACKNOWLEDGE)
@require_POST
def notice_acknowledge_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    user = staff_user(request)
    notice = get_object_or_404(SupervisorNotice, pk=notice_id, clinic_id=user.clinic_id)
    services.supervisor_notice_acknowledge(user=user, notice=notice)
    return redirect("home")
