"""`{% visit_eligibility appointment %}`: the check-in page's eligibility panel (the payer's
last answer per coverage, "verify now", the card's co-pay against the payer's). Flow's page
loads it, so flow needs no code of its own for it."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from frontdesk.eligibility.selectors import visit_eligibility as statuses_of
from frontdesk.eligibility.selectors import visit_estimate
from frontdesk.scheduling.models import Appointment

register = template.Library()


@register.inclusion_tag("eligibility/_visit.html", takes_context=True)
def visit_eligibility(context: template.Context, appointment: Appointment) -> dict[str, Any]:
    request = context.get("request")
    statuses = statuses_of(appointment, now=timezone.now())
    return {
        "statuses": statuses,
        "estimate": visit_estimate(appointment, statuses),
        "appointment_id": appointment.pk,
        "csrf_token": context.get("csrf_token"),
        "back": request.get_full_path() if request is not None else "",
    }
