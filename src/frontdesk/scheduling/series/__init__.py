"""Recurring series: the same visit every week or every few weeks (weekly physiotherapy x 8).

A series is planned from an RFC 5545 rule built with dateutil in clinic local time (DTSTART is
floating local time, like the schedule templates), so a 09:00 visit stays at 09:00 on both sides
of a daylight-saving change. Before anything is booked the officer sees every visit and whether
it is free or why not; booking then takes every free visit through `services.appointment_book`
(the same no-double-booking path as a single booking) in one transaction with the series
record. A visit lost to a race meanwhile is simply reported as a conflict.

The series row holds the rule and, as planned, the schedule (provider and place), the type of
visit and the count or last date. Every planned occurrence is a `SeriesVisit` row with its
position, planned time and status (booked with its appointment, conflict, skipped, cancelled);
the database keeps positions unique and a booked visit tied to exactly one appointment. The
appointment's note still says "Series visit 3 of 8" for people reading it; nothing reads it back.
A skipped visit is only a status on its `SeriesVisit`: it never held the provider's time.

One job per module: `plan.py` (the visits a rule gives, each free or why not), `booking.py`
(the series booked), `page.py` (the series page and nearby free times), `resolving.py` (a
waiting visit booked elsewhere or skipped, the rest cancelled). The names below are what the
series pages use.
"""

from __future__ import annotations

from frontdesk.scheduling.series.booking import series_book
from frontdesk.scheduling.series.page import SeriesPage, series_page
from frontdesk.scheduling.series.plan import (
    Occurrence,
    SeriesRefusedError,
    series_plan,
    series_preview,
)
from frontdesk.scheduling.series.resolving import (
    series_cancel_remaining,
    series_visit_book,
    series_visit_skip,
)

__all__ = [
    "Occurrence",
    "SeriesPage",
    "SeriesRefusedError",
    "series_book",
    "series_cancel_remaining",
    "series_page",
    "series_plan",
    "series_preview",
    "series_visit_book",
    "series_visit_skip",
]
