"""The patient's records requests on their chart (patients/chart.py): the latest, one query, and
the accounting of disclosures, for roles that may see requests for records."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient
from frontdesk.records.selectors import patient_records_requests


def chart_records(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    can_see = role_may(user.role, Action.RECORDS_VIEW)
    return ChartPart(
        context={
            "can_see_records_requests": can_see,
            "records_request_list": list(patient_records_requests(patient.pk)) if can_see else [],
            "can_log_records_request": role_may(user.role, Action.RECORDS_MANAGE),
            "can_print_accounting": role_may(user.role, Action.DISCLOSURE_ACCOUNTING),
        }
    )


chart_part_register("records", chart_records)
