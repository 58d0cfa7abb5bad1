"""The chart's header: what the desk needs at a glance, for a patient the caller has opened.

Most of it comes from what the chart reads anyway (the coverages, the upcoming appointments),
so the header costs at most two queries of its own: the balance, for roles that may see
accounts, and whether a walk-in's registration is still to complete. The chart's one VIEW
event covers it, as it covers the account panel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.billing.selectors import patient_balance
from frontdesk.flow.models import IncompleteRegistration
from frontdesk.flow.selectors import ADDRESS_CONFIRM_DAYS
from frontdesk.patients.models import Confidentiality, Coverage, CoverageRank, Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus

# A visit still to come: booked, or asked for and not yet confirmed.
_UPCOMING = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)


@dataclass(frozen=True)
class ChartHeader:
    balance: Decimal | None  # None: the role does not handle money (BILLING_VIEW)
    next_visit: Appointment | None
    primary: Coverage | None  # the primary coverage in force today; None: self-pay
    restricted: bool
    alerts: list[str] = field(default_factory=list)


def chart_header(
    *,
    user: User,
    patient: Patient,
    coverages: list[Coverage],
    appointments: list[Appointment],
    now: dt.datetime,
    today: dt.date,
) -> ChartHeader:
    """`coverages` and `appointments` (ordered by start) as the chart read them."""
    next_visit = next((a for a in appointments if a.start >= now and a.status in _UPCOMING), None)
    primary = next(
        (
            c
            for c in coverages
            if c.rank == CoverageRank.PRIMARY
            and (c.effective_date is None or c.effective_date <= today)
            and (c.end_date is None or c.end_date >= today)
        ),
        None,
    )
    return ChartHeader(
        balance=patient_balance(patient.pk) if role_may(user.role, Action.BILLING_VIEW) else None,
        next_visit=next_visit,
        primary=primary,
        restricted=patient.confidentiality == Confidentiality.RESTRICTED,
        alerts=_alerts(patient, today=today),
    )


def _alerts(patient: Patient, *, today: dt.date) -> list[str]:
    """The patient's own alerts, then what the desk should put right at the next visit."""
    alerts = list(patient.alert_labels)
    if patient.interpreter_needed and "interpreter" not in patient.alerts:
        alerts.append(f"Interpreter: {patient.preferred_language}")
    if patient.alert_note:
        alerts.append(patient.alert_note)
    if IncompleteRegistration.objects.filter(patient=patient, completed_at=None).exists():
        alerts.append("Registration incomplete")
    confirmed = patient.address_confirmed_on
    if confirmed is None:
        alerts.append("Address never confirmed")
    elif (today - confirmed).days > ADDRESS_CONFIRM_DAYS:
        alerts.append(f"Address last confirmed {confirmed:%b %-d, %Y}")
    return alerts
