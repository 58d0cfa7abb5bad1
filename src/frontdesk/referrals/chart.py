"""The patient's referrals on their chart (patients/chart.py): the latest in and out, one query,
for roles that may see referrals."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient
from frontdesk.referrals.selectors import patient_referrals


def chart_referrals(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    can_see = role_may(user.role, Action.REFERRAL_VIEW)
    return ChartPart(
        context={
            "can_see_referrals": can_see,
            "referral_list": list(patient_referrals(patient.pk)) if can_see else [],
            "can_register_referral": role_may(user.role, Action.REFERRAL_MANAGE),
            "can_request_referral": role_may(user.role, Action.REFERRAL_REQUEST),
        }
    )


chart_part_register("referrals", chart_referrals)
