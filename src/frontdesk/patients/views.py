from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from frontdesk.accounts.policy import Action, policy, role_may, staff_user
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import audit_context, audit_record
from frontdesk.lib.masking import age_on
from frontdesk.patients.selectors import access_patient, patient_search


@policy(Action.PATIENT_SEARCH)
def search_view(request: HttpRequest) -> HttpResponse:
    """The one search box. Every search is audited with its terms and the patients shown."""
    user = staff_user(request)
    query = request.GET.get("q", "")
    parsed, results = patient_search(user, query)
    if parsed.text:
        audit_record(
            context=audit_context(request),
            action=AuditAction.SEARCH,
            patient_ids=[p.pk for p in results],
            object_type="patient_search",
            detail={"terms": parsed.text, "results": len(results)},
        )
    today = timezone.localdate()
    rows = [(p, age_on(p.birth_date, today)) for p in results]
    context = {"query": parsed.text, "rows": rows, "searched": bool(parsed.text)}
    template = "patients/_results.html" if request.htmx else "patients/search.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@policy(Action.PATIENT_VIEW)
def chart_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient(staff_user(request), patient_id)
    coverages = list(patient.coverages.select_related("payer"))
    audit_record(
        context=audit_context(request),
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type="patient",
        object_id=patient.pk,
    )
    context = {
        "patient": patient,
        "age": age_on(patient.birth_date, timezone.localdate()),
        "coverages": coverages,
        "redirected_from": patient_id if patient.pk != patient_id else None,
        "can_see_access_log": role_may(staff_user(request).role, Action.AUDIT_PATIENT_ACCESS),
    }
    return render(request, "patients/chart.html", context)
