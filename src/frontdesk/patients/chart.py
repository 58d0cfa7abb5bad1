"""The patient's chart as the apps compose it: its header at a glance, and what the apps above
patients add.

Patients sits below scheduling, billing and flow, so the chart never reads their data itself:
each of them registers a part (`chart_part_register`) in its own `chart` module, which
patients' `ready()` imports as Django's admin finds `admin` modules. A part is a function of the
user, the patient and the time; it returns the names the chart's template reads for it and the
alerts it adds to the header, after the patient's own. The visits (scheduling), the balance
(billing) and the desk's reminders (flow) cost a query each at most, and the chart's one VIEW
event covers them, as it covers the account panel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from frontdesk.accounts.models import User
from frontdesk.patients.models import Confidentiality, Coverage, CoverageRank, Patient


@dataclass(frozen=True)
class ChartPart:
    """What one app adds to the chart: names for its template, and alerts for its header."""

    context: Mapping[str, object] = field(default_factory=dict)
    alerts: Sequence[str] = ()


class ChartPartSource(Protocol):
    def __call__(
        self, *, user: User, patient: Patient, now: dt.datetime, today: dt.date
    ) -> ChartPart:
        """The part for this user and patient (the caller has opened the patient)."""


_parts: dict[str, ChartPartSource] = {}


def chart_part_register(name: str, source: ChartPartSource) -> None:
    """Add a part to every chart, under its app's name (a second registration replaces it)."""
    _parts[name] = source


@dataclass(frozen=True)
class ChartHeader:
    primary: Coverage | None  # the primary coverage in force today; None: self-pay
    restricted: bool
    alerts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    header: ChartHeader
    context: dict[str, object]  # the parts' names for the template


def chart_compose(
    *,
    user: User,
    patient: Patient,
    coverages: list[Coverage],
    now: dt.datetime,
    today: dt.date,
) -> Chart:
    """The header from `coverages` as the chart read them, and every registered part."""
    context: dict[str, object] = {}
    alerts = _alerts(patient)
    for name, source in _parts.items():
        part = source(user=user, patient=patient, now=now, today=today)
        taken = context.keys() & part.context.keys()
        if taken:
            raise ImproperlyConfigured(f"The chart part {name!r} reuses the names {taken}.")
        context.update(part.context)
        alerts.extend(part.alerts)
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
    header = ChartHeader(
        primary=primary,
        restricted=patient.confidentiality == Confidentiality.RESTRICTED,
        alerts=alerts,
    )
    return Chart(header=header, context=context)


def _alerts(patient: Patient) -> list[str]:
    """The patient's own alerts."""
    alerts = list(patient.alert_labels)
    if patient.interpreter_needed and "interpreter" not in patient.alerts:
        alerts.append(f"Interpreter: {patient.preferred_language}")
    if patient.alert_note:
        alerts.append(patient.alert_note)
    return alerts
