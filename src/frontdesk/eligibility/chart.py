"""The payer's word in the chart's header (patients/chart.py), for the roles that see
eligibility: a coverage left to verify, and a primary coverage the payer last called not
active or refused. Two queries whatever the chart holds."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.eligibility.models import GOOD_OUTCOMES, EligibilityCheck, Outcome, VerifyLater
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import CoverageRank, Patient


def chart_eligibility(
    *, user: User, patient: Patient, now: dt.datetime, today: dt.date
) -> ChartPart:
    if not role_may(user.role, Action.ELIGIBILITY_VIEW):
        return ChartPart()
    alerts = []
    if VerifyLater.objects.filter(patient=patient, closed_at__isnull=True).exists():
        alerts.append("Insurance to verify with the payer")
    last = (
        EligibilityCheck.objects.filter(
            patient=patient, coverage__rank=CoverageRank.PRIMARY, outcome__in=GOOD_OUTCOMES
        )
        .order_by("-answered_at", "-pk")
        .values_list("outcome", "words")
        .first()
    )
    if last is not None and last[0] == Outcome.INACTIVE:
        alerts.append("Primary insurance not active, the payer says")
    elif last is not None and last[0] == Outcome.REJECTED:
        alerts.append(f"Primary insurance refused by the payer: {last[1]}")
    return ChartPart(alerts=alerts)


chart_part_register("eligibility", chart_eligibility)
