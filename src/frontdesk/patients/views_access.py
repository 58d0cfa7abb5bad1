"""Who accessed a patient's record: the audit trail's events for one patient (supervisors).

The page is the patients app's, since it opens a patient (`access_patient`); the audit app
provides the events (`audit.selectors.audit_events_for_patient`)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontdesk.accounts.policy import Action, policy, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.selectors import audit_events_for_patient
from frontdesk.audit.services import audit_context
from frontdesk.patients.selectors import access_patient, patients_shown


@policy(Action.AUDIT_PATIENT_ACCESS)
def patient_access_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Who accessed this patient, when, and why (supervisors)."""
    patient = access_patient(staff_user(request), patient_id)
    # Recorded first, so this look at the log is itself part of the page it shows.
    patients_shown(
        context=audit_context(request),
        patient_ids=[patient.pk],
        page=AuditObject.PATIENT_ACCESS_LOG,
        object_id=patient.pk,
    )
    events = audit_events_for_patient(clinic_id=patient.clinic_id, patient_id=patient.pk)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/patient_access.html", {"patient": patient, "page": page})
