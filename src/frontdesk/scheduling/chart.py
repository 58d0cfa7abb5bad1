"""The patient's visits on their chart (patients/chart.py): from a day back to what is to come,
and the next one for the header (date, time, provider; never its type). One query, for roles
that may see appointments."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import AppointmentStatus
from frontdesk.scheduling.selectors import patient_appointments

# A visit still to come: booked, or asked for and not yet confirmed.
_UPCOMING = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)


def chart_visits(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    can_see_visits = role_may(user.role, Action.APPOINTMENT_VIEW)
    appointments = (
        patient_appointments(user, patient.pk, since=now - dt.timedelta(days=1))
        if can_see_visits
        else []
    )
    next_visit = next((a for a in appointments if a.start >= now and a.status in _UPCOMING), None)
    return ChartPart(
        context={
            "can_see_visits": can_see_visits,
            "appointments": appointments,
            "next_visit": next_visit,
        }
    )


chart_part_register("scheduling", chart_visits)
