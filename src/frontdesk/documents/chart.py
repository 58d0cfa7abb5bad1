"""The patient's documents on their chart (patients/chart.py): by kind, newest first, one
query, for roles that may see documents; the chart's VIEW event covers them."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.documents.selectors import patient_documents_grouped
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient


def chart_documents(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    can_see = role_may(user.role, Action.DOCUMENT_VIEW)
    return ChartPart(
        context={
            "can_see_documents": can_see,
            "document_groups": patient_documents_grouped(patient.pk) if can_see else [],
            "can_upload_documents": role_may(user.role, Action.DOCUMENT_UPLOAD),
        }
    )


chart_part_register("documents", chart_documents)
