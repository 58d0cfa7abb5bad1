"""`{% booking_estimate patient kind start %}` on the booking's read-back and
`{% appointment_estimate appointment %}` on the visit's page: the patient's estimate from the
payer's answer for that date of service (scheduling's pages load them, so scheduling needs no
code of its own for it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from frontdesk.accounts.policy import Action, role_may
from frontdesk.clinic.models import AppointmentType
from frontdesk.eligibility.estimates import appointment_estimate as estimate_of
from frontdesk.eligibility.estimates import visit_estimate_for
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment

register = template.Library()


def _may_see(context: template.Context) -> bool:
    # Clinicians open visits too; the estimate is the desk's and billing's business.
    request = context.get("request")
    role = getattr(getattr(request, "user", None), "role", None)
    return role is not None and role_may(role, Action.ELIGIBILITY_VIEW)


@register.inclusion_tag("eligibility/_estimate.html", takes_context=True)
def booking_estimate(
    context: template.Context, patient: Patient, kind: AppointmentType, start: dt.datetime
) -> dict[str, Any]:
    if not _may_see(context):
        return {"found": None}
    day = start.astimezone(clinic_zone(patient.clinic_id)).date()
    return {"found": visit_estimate_for(patient=patient, kind=kind, day=day)}


@register.inclusion_tag("eligibility/_estimate.html", takes_context=True)
def appointment_estimate(context: template.Context, appointment: Appointment) -> dict[str, Any]:
    if not _may_see(context):
        return {"found": None}
    return {
        "found": estimate_of(appointment),
        "appointment": appointment,
        "csrf_token": context.get("csrf_token"),
    }
