"""The balance in the chart's header (patients/chart.py), for roles that may see accounts: one
query, whose result the account panel (`{% patient_account %}`) reuses."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.billing.selectors import patient_balance
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient


def chart_balance(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    # None: the role does not handle money (BILLING_VIEW), and the header says nothing of it.
    balance = patient_balance(patient.pk) if role_may(user.role, Action.BILLING_VIEW) else None
    return ChartPart(context={"balance": balance})


chart_part_register("billing", chart_balance)
