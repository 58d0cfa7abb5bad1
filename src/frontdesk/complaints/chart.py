"""The way to a complaint from the patient's chart (patients/chart.py): a "Log a complaint"
link that opens the complaint form with the patient filled in, for roles that may log one. No
query: complaints are confidential, so the chart lists none of them."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient


def chart_complaints(
    *, user: User, patient: Patient, now: dt.datetime, today: dt.date
) -> ChartPart:
    return ChartPart(context={"can_log_complaint": role_may(user.role, Action.COMPLAINT_LOG)})


chart_part_register("complaints", chart_complaints)
