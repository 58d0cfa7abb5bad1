"""Planning a series: the visits a weekly rule gives, each free or why not, before anything is
booked (`series_plan`, `series_preview`)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from dateutil.rrule import WEEKLY, rrule  # type: ignore[import-untyped, unused-ignore]
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.scheduling import availability
from frontdesk.scheduling.availability import provider_label
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Schedule,
)

MAX_VISITS = 52
# A series is planned at most this far ahead of today (its first visit).
MAX_LEAD = dt.timedelta(days=730)
MAX_INTERVAL_WEEKS = 12
# Nearby options for a visit that cannot be booked as planned: this many days either side,
# the closest time on each day, at most OPTIONS of them.
NEARBY_DAYS = 3
OPTIONS = 4
# A visit is rebooked near its planned time, not anywhere in the calendar.
NEAR_ENOUGH = dt.timedelta(days=14)
OPEN_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING, AppointmentStatus.PROPOSED)


class SeriesPlanError(ValueError):
    """The officer's choices make no series; `field` is the form field to show it on."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SeriesRefusedError(Exception):
    """Nothing can be done; the message says why in the officer's words."""


@dataclass(frozen=True)
class SeriesPlan:
    schedule: Schedule
    appointment_type: AppointmentType
    rrule: str  # DTSTART (floating clinic local time) and RRULE lines
    starts: tuple[dt.datetime, ...]  # aware, clinic zone
    count: int | None = None  # as the officer asked: a number of visits or a last date
    until: dt.date | None = None


@dataclass(frozen=True)
class Occurrence:
    number: int  # 1-based place in the series
    start: dt.datetime  # aware, clinic zone
    problem: str | None  # None: free to book

    @property
    def is_free(self) -> bool:
        return self.problem is None


def visit_note(number: int, total: int) -> str:
    return f"Series visit {number} of {total}"


def local_words(start: dt.datetime, zone: dt.tzinfo) -> str:
    return f"{timezone.localtime(start, zone):%a %b %-d %H:%M}"


def series_plan(
    *,
    schedule: Schedule,
    appointment_type: AppointmentType,
    first_date: dt.date,
    first_time: dt.time,
    interval: int,
    weekdays: frozenset[int],
    count: int | None,
    until: dt.date | None,
    now: dt.datetime,
) -> SeriesPlan:
    """The visits a series would have, or SeriesPlanError naming the field that is wrong.

    Weekly, every `interval` weeks, on `weekdays` (0 Monday … 6 Sunday; empty: the first
    date's weekday), from the first date on, for `count` visits or until `until` (inclusive).
    """
    if count is not None and until is not None:
        raise SeriesPlanError("count", "Give either a number of visits or a last date, not both.")
    if count is None and until is None:
        raise SeriesPlanError("count", "Say how many visits, or the date of the last one.")
    if count is not None and count < 1:
        raise SeriesPlanError("count", "A series needs at least one visit.")
    if count is not None and count > MAX_VISITS:
        raise SeriesPlanError(
            "count", f"A series holds at most {MAX_VISITS} visits; book {MAX_VISITS} or fewer."
        )
    if not 1 <= interval <= MAX_INTERVAL_WEEKS:
        raise SeriesPlanError("interval", f"Repeat every 1 to {MAX_INTERVAL_WEEKS} weeks.")
    if until is not None and until < first_date:
        raise SeriesPlanError("until", "The last date is before the first visit.")
    if any(not 0 <= day <= 6 for day in weekdays):
        raise SeriesPlanError("weekdays", "Choose the days from the list.")
    zone = clinic_zone(schedule.clinic_id)
    first = dt.datetime.combine(first_date, first_time, tzinfo=zone)
    if first < now:
        raise SeriesPlanError(
            "first_date", "The first visit is in the past. Choose a date and time from now on."
        )
    if first > now + MAX_LEAD:
        raise SeriesPlanError(
            "first_date", "The first visit is more than two years away. Choose an earlier date."
        )
    # The rule is expanded in naive local time (wall-clock weeks), then placed in the zone.
    rule = rrule(
        WEEKLY,
        dtstart=first.replace(tzinfo=None),
        interval=interval,
        byweekday=sorted(weekdays) or None,
        count=count,
        until=dt.datetime.combine(until, dt.time(23, 59, 59)) if until is not None else None,
    )
    starts = tuple(when.replace(tzinfo=zone) for when in itertools.islice(rule, MAX_VISITS + 1))
    if not starts:
        raise SeriesPlanError("until", "No visit falls on the chosen days before the last date.")
    if len(starts) > MAX_VISITS:
        raise SeriesPlanError(
            "until",
            f"A series holds at most {MAX_VISITS} visits; these choices make more. "
            "Choose an earlier last date or fewer days.",
        )
    return SeriesPlan(schedule, appointment_type, str(rule), starts, count, until)


def occurrence_problem(
    *,
    patient: Patient,
    schedule: Schedule,
    appointment_type: AppointmentType,
    start: dt.datetime,
    now: dt.datetime,
) -> str | None:
    """Why this visit cannot be booked as planned (in the officer's words), or None."""
    problem = availability.slot_is_bookable(
        appointment_type=appointment_type, schedule=schedule, start=start, now=now
    )
    if problem is not None:
        return problem
    return patient_clash(patient=patient, appointment_type=appointment_type, start=start)


def patient_clash(
    *, patient: Patient, appointment_type: AppointmentType, start: dt.datetime
) -> str | None:
    end = start + dt.timedelta(minutes=appointment_type.duration_minutes)
    other = (
        Appointment.objects.filter(
            patient_id=patient.pk, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
        )
        .select_related("provider", "appointment_type")
        .order_by("start")
        .first()
    )
    if other is None:
        return None
    when = local_words(other.start, clinic_zone(patient.clinic_id))
    return (
        f"The patient already has {other.appointment_type.name} with "
        f"{provider_label(other.provider)} at {when}"
    )


def series_preview(
    *, context: AuditContext, user: User, patient: Patient, plan: SeriesPlan
) -> list[Occurrence]:
    """Every planned visit with its status, before anything is booked (audited as a view)."""
    now = timezone.now()
    found = [
        Occurrence(
            number,
            start,
            occurrence_problem(
                patient=patient,
                schedule=plan.schedule,
                appointment_type=plan.appointment_type,
                start=start,
                now=now,
            ),
        )
        for number, start in enumerate(plan.starts, start=1)
    ]
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type=AuditObject.APPOINTMENT_SERIES_PREVIEW,
        detail={
            "rrule": plan.rrule,
            "schedule": plan.schedule.pk,
            "free": sum(1 for o in found if o.is_free),
            "conflicts": sum(1 for o in found if not o.is_free),
        },
    )
    return found
