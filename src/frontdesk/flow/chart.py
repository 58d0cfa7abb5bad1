"""What the desk should put right at the patient's next visit, as alerts in the chart's header
(patients/chart.py): a walk-in's registration still to complete (one query), and an address
never or not lately confirmed."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.flow.models import IncompleteRegistration
from frontdesk.flow.selectors import ADDRESS_CONFIRM_DAYS
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient


def chart_desk_alerts(
    *, user: User, patient: Patient, now: dt.datetime, today: dt.date
) -> ChartPart:
    alerts = []
    if IncompleteRegistration.objects.filter(patient=patient, completed_at=None).exists():
        alerts.append("Registration incomplete")
    confirmed = patient.address_confirmed_on
    if confirmed is None:
        alerts.append("Address never confirmed")
    elif (today - confirmed).days > ADDRESS_CONFIRM_DAYS:
        alerts.append(f"Address last confirmed {confirmed:%b %-d, %Y}")
    return ChartPart(alerts=alerts)


chart_part_register("flow", chart_desk_alerts)
