"""Warnings about a visit, from the apps above the schedule, shown where it is booked and where
the patient is checked in (an authorisation that will have expired by the visit, or whose
visits are used up).

Scheduling may not import the apps that know these things (referrals sits beside it and
imports it), so they register a source here from their `AppConfig.ready()`, as the chart's
parts do (patients/chart.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class VisitWarningSource(Protocol):
    def __call__(
        self, *, patient_id: int, start: dt.datetime, appointment_id: int | None
    ) -> list[str]:
        """Warnings in the desk's words for a visit of this patient at `start` (aware);
        `appointment_id` is None while it is still being booked."""


_sources: dict[str, VisitWarningSource] = {}


def visit_warning_register(name: str, source: VisitWarningSource) -> None:
    """Add a source of warnings (a second registration under a name replaces it)."""
    _sources[name] = source


def visit_warnings(
    *, patient_id: int, start: dt.datetime, appointment_id: int | None = None
) -> list[str]:
    """Every registered source's warnings for this visit, in registration order."""
    warnings: list[str] = []
    for source in _sources.values():
        warnings.extend(source(patient_id=patient_id, start=start, appointment_id=appointment_id))
    return warnings
