"""The start page (`/`): the notices for a supervisor's attention, the patients this person
opened recently, and repeated failed sign-ins for those who unlock accounts.

It lives in the patients app, since most of it is about patients and accounts sits below
patients; its template is `accounts/home.html`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontdesk.accounts.policy import Action, policy, role_may, staff_user
from frontdesk.accounts.selectors import sign_in_alerts_recent
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.patients.selectors import (
    patients_recently_opened,
    patients_shown,
    supervisor_notices_open,
)


@policy(Action.HOME)
def home_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    recent = []
    if role_may(user.role, Action.PATIENT_VIEW):
        recent = patients_recently_opened(user)
        if recent:
            patients_shown(
                context=audit_context(request),
                patient_ids=[p.pk for p in recent],
                page=AuditObject.RECENT_PATIENTS,
            )
    notices = supervisor_notices_open(user)
    if notices:
        patients_shown(
            context=audit_context(request),
            patient_ids=[n.patient_id for n in notices if n.patient_id],
            page=AuditObject.SUPERVISOR_NOTICES,
        )
    sign_in_alerts = []
    if role_may(user.role, Action.ACCOUNT_UNLOCK):
        sign_in_alerts = sign_in_alerts_recent(clinic_id=user.clinic_id, days=1)
    context = {"recent_patients": recent, "notices": notices, "sign_in_alerts": sign_in_alerts}
    return render(request, "accounts/home.html", context)
