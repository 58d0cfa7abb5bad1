"""Recurring series: the same visit every week or every few weeks (weekly physiotherapy x 8).

A series is planned from an RFC 5545 rule built with dateutil in clinic local time (DTSTART is
floating local time, like the schedule templates), so a 09:00 visit stays at 09:00 on both sides
of a daylight-saving change. Before anything is booked the officer sees every visit and whether
it is free or why not; booking then takes every free visit through `services.appointment_book`
(the same no-double-booking path as a single booking) in one transaction with the series
record. A visit lost to a race meanwhile is simply reported as a conflict.

Each appointment of a series carries its place in the note ("Series visit 3 of 8"): the series
table holds only the rule, so the note is what ties a visit moved to another time, or skipped,
back to its planned occurrence. A skipped visit is recorded as a cancelled appointment at its
planned time, so that every planned visit ends up with exactly one row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field

from dateutil.rrule import WEEKLY, rrule, rrulestr  # type: ignore[import-untyped, unused-ignore]
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient
from frontdesk.scheduling import availability, services
from frontdesk.scheduling.availability import FreeSlot, clinic_zone, free_slots, provider_label
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentHistory,
    AppointmentSeries,
    AppointmentStatus,
    CancelledBy,
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
_NOTE = re.compile(r"^Series visit (\d+) of (\d+)")
_OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING, AppointmentStatus.PROPOSED)


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


@dataclass(frozen=True)
class Occurrence:
    number: int  # 1-based place in the series
    start: dt.datetime  # aware, clinic zone
    problem: str | None  # None: free to book

    @property
    def is_free(self) -> bool:
        return self.problem is None


def _visit_note(number: int, total: int) -> str:
    return f"Series visit {number} of {total}"


def _note_prefix(number: int) -> str:
    return f"Series visit {number} of "


def visit_number(appointment: Appointment) -> int | None:
    """The appointment's place in its series, read from its note."""
    match = _NOTE.match(appointment.note)
    return int(match.group(1)) if match else None


def _local(start: dt.datetime) -> str:
    return f"{timezone.localtime(start, clinic_zone()):%a %b %-d %H:%M}"


# --- Planning -----------------------------------------------------------------------------------


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
    zone = clinic_zone()
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
    return SeriesPlan(schedule, appointment_type, str(rule), starts)


def series_starts(rule_text: str) -> list[dt.datetime]:
    """The planned visits of a stored series (aware, clinic zone); none if its rule is
    unreadable."""
    zone = clinic_zone()
    try:
        rule = rrulestr(rule_text)
        found = list(itertools.islice(rule, MAX_VISITS))
    except (ValueError, TypeError, OverflowError):
        return []
    return [when if when.tzinfo else when.replace(tzinfo=zone) for when in found]


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
    return _patient_clash(patient=patient, appointment_type=appointment_type, start=start)


def _patient_clash(
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
    return (
        f"The patient already has {other.appointment_type.name} with "
        f"{provider_label(other.provider)} at {_local(other.start)}"
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
        object_type="appointment_series_preview",
        detail={
            "rrule": plan.rrule,
            "schedule": plan.schedule.pk,
            "free": sum(1 for o in found if o.is_free),
            "conflicts": sum(1 for o in found if not o.is_free),
        },
    )
    return found


# --- Booking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesOutcome:
    series: AppointmentSeries
    booked: list[Appointment]
    conflicts: list[Occurrence]


@transaction.atomic
def series_book(
    *, context: AuditContext, user: User, patient: Patient, plan: SeriesPlan
) -> SeriesOutcome:
    """Create the series and book every visit that is free now; the others are conflicts.

    One transaction: the series record and its appointments commit together. Each visit goes
    through `services.appointment_book` (in its own savepoint), so the database's no-double-
    booking rule holds and a visit taken since the preview becomes a conflict, not an error.
    SeriesRefusedError (nothing kept) when not a single visit can be booked.
    """
    now = timezone.now()
    series = AppointmentSeries.objects.create(patient=patient, rrule=plan.rrule, created_at=now)
    total = len(plan.starts)
    booked: list[Appointment] = []
    conflicts: list[Occurrence] = []
    for number, start in enumerate(plan.starts, start=1):
        problem = _patient_clash(
            patient=patient, appointment_type=plan.appointment_type, start=start
        )
        if problem is None:
            try:
                booked.append(
                    services.appointment_book(
                        context=context,
                        user=user,
                        patient=patient,
                        schedule=plan.schedule,
                        appointment_type=plan.appointment_type,
                        start=start,
                        note=_visit_note(number, total),
                        series_id=series.pk,
                    )
                )
                continue
            except services.SlotTakenError:
                problem = "That time was just taken by another booking"
            except services.BookingRefusedError as exc:
                problem = str(exc)
        conflicts.append(Occurrence(number, start, problem))
    if not booked:  # raising rolls the series record back with everything else
        raise SeriesRefusedError(
            "None of the visits can be booked as planned, so nothing was booked. "
            "Choose another time, day or provider."
        )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type="appointment_series",
        object_id=series.pk,
        detail={
            "rrule": plan.rrule,
            "schedule": plan.schedule.pk,
            "appointment_type": plan.appointment_type.pk,
            "booked": [a.pk for a in booked],
            "conflicts": [{"visit": o.number, "start": o.start.isoformat()} for o in conflicts],
        },
    )
    return SeriesOutcome(series, booked, conflicts)


# --- The series page ------------------------------------------------------------------------------


@dataclass
class SeriesRow:
    number: int | None
    planned: dt.datetime | None
    appointment: Appointment | None = None
    problem: str | None = None  # for a visit not booked yet
    options: list[FreeSlot] = field(default_factory=list)

    @property
    def state(self) -> str:
        """booked, moved, cancelled, skipped, unresolved, or the appointment's status."""
        a = self.appointment
        if a is None:
            return "unresolved"
        if a.status == AppointmentStatus.CANCELLED and a.cancel_reason.startswith("Skipped"):
            return "skipped"
        if a.status == AppointmentStatus.BOOKED and self.planned and a.start != self.planned:
            return "moved"
        return str(a.status)


@dataclass
class SeriesPage:
    series: AppointmentSeries
    patient: Patient
    schedule: Schedule | None
    appointment_type: AppointmentType | None
    rows: list[SeriesRow]

    @property
    def unresolved(self) -> list[SeriesRow]:
        return [r for r in self.rows if r.appointment is None]

    @property
    def remaining(self) -> int:
        now = timezone.now()
        return sum(
            1
            for r in self.rows
            if (r.appointment is None and r.planned is not None and r.planned >= now)
            or (
                r.appointment is not None
                and r.appointment.status in _OPEN
                and r.appointment.start >= now
            )
        )


def access_series(user: User, series_id: int) -> tuple[AppointmentSeries, Patient]:
    """The series and its patient, if this user may see the patient (same clinic, and a
    restricted record only after breaking the glass)."""
    if user.clinic_id is None:
        raise Http404("No such series")
    series = (
        AppointmentSeries.objects.filter(pk=series_id, patient__clinic_id=user.clinic_id)
        .select_related("patient")
        .first()
    )
    if series is None:
        raise Http404("No such series")
    return series, access_patient(user, series.patient_id)


def _series_appointments(series: AppointmentSeries) -> list[Appointment]:
    return list(
        Appointment.objects.filter(series=series)
        .select_related("provider", "appointment_type", "schedule__location", "schedule__provider")
        .order_by("start", "pk")
    )


def _nearby_options(
    *,
    patient: Patient,
    schedule: Schedule,
    appointment_type: AppointmentType,
    planned: dt.datetime,
    now: dt.datetime,
) -> list[FreeSlot]:
    """Free times of the same provider and place within NEARBY_DAYS of the planned visit that
    the patient is free for: on each day the one closest to the planned time of day, nearest
    days first."""
    zone = clinic_zone()
    local = planned.astimezone(zone)
    lo = dt.datetime.combine(local.date() - dt.timedelta(days=NEARBY_DAYS), dt.time(0), zone)
    hi = dt.datetime.combine(local.date() + dt.timedelta(days=NEARBY_DAYS + 1), dt.time(0), zone)
    slots = free_slots(
        appointment_type=appointment_type,
        schedules=[schedule],
        start=lo,
        end=hi,
        now=now,
        limit=500,
    )
    busy = list(
        Appointment.objects.filter(
            patient_id=patient.pk, status__in=ACTIVE_STATUSES, start__lt=hi, end__gt=lo
        ).values_list("start", "end")
    )
    best: dict[dt.date, tuple[float, FreeSlot]] = {}
    planned_minutes = local.hour * 60 + local.minute
    for slot in slots:
        if any(s < slot.end and e > slot.start for s, e in busy):
            continue
        here = slot.start.astimezone(zone)
        gap = abs(here.hour * 60 + here.minute - planned_minutes)
        if here.date() not in best or gap < best[here.date()][0]:
            best[here.date()] = (gap, slot)
    ordered = sorted(best.items(), key=lambda item: (abs((item[0] - local.date()).days), item[0]))
    return [slot for _, (_, slot) in ordered[:OPTIONS]]


def series_page(*, context: AuditContext, user: User, series_id: int) -> SeriesPage:
    """Every planned visit of the series with its appointment or, when it has none yet, why
    and the nearby free times to choose from (audited as a view of the patient)."""
    series, patient = access_series(user, series_id)
    appointments = _series_appointments(series)
    planned = series_starts(series.rrule)
    by_number: dict[int, Appointment] = {}
    extras: list[Appointment] = []
    for appointment in appointments:
        number = visit_number(appointment)
        if number is None or not 1 <= number <= len(planned):
            extras.append(appointment)
        else:
            by_number[number] = appointment  # the latest row of a visit wins
    first = appointments[0] if appointments else None
    schedule = first.schedule if first else None
    kind = first.appointment_type if first else None
    now = timezone.now()
    rows: list[SeriesRow] = []
    for number, start in enumerate(planned, start=1):
        row = SeriesRow(number, start, by_number.get(number))
        if row.appointment is None and schedule is not None and kind is not None:
            row.problem = occurrence_problem(
                patient=patient, schedule=schedule, appointment_type=kind, start=start, now=now
            )
            if row.problem is None:
                row.options = [
                    FreeSlot(
                        schedule,
                        schedule.provider,
                        schedule.location,
                        start,
                        start + dt.timedelta(minutes=kind.duration_minutes),
                    )
                ]
            elif start >= now - dt.timedelta(days=NEARBY_DAYS):
                row.options = _nearby_options(
                    patient=patient,
                    schedule=schedule,
                    appointment_type=kind,
                    planned=start,
                    now=now,
                )
        rows.append(row)
    rows.extend(SeriesRow(None, None, a) for a in extras)
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type="appointment_series",
        object_id=series.pk,
    )
    return SeriesPage(series, patient, schedule, kind, rows)


# --- Resolving and cancelling ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    series: AppointmentSeries
    patient: Patient
    schedule: Schedule
    appointment_type: AppointmentType
    planned: dt.datetime
    total: int


def _open_visit(user: User, series_id: int, number: int) -> _Open:
    """The series (row locked, so two officers cannot resolve one visit twice) and a planned
    visit of it that has no appointment yet."""
    series, patient = access_series(user, series_id)
    AppointmentSeries.objects.select_for_update().filter(pk=series.pk).first()
    planned = series_starts(series.rrule)
    if not 1 <= number <= len(planned):
        raise Http404("No such visit in this series")
    appointments = _series_appointments(series)
    if not appointments:
        raise SeriesRefusedError("This series has no appointments to take the visit from.")
    if Appointment.objects.filter(series=series, note__startswith=_note_prefix(number)).exists():
        raise SeriesRefusedError(f"Visit {number} has already been dealt with.")
    first = appointments[0]
    return _Open(
        series, patient, first.schedule, first.appointment_type, planned[number - 1], len(planned)
    )


@transaction.atomic
def series_visit_book(
    *, context: AuditContext, user: User, series_id: int, number: int, start: dt.datetime
) -> Appointment:
    """Book a visit of the series that could not be booked as planned at `start` (one of its
    nearby options, or the planned time once it is free)."""
    visit = _open_visit(user, series_id, number)
    if abs(start - visit.planned) > NEAR_ENOUGH:
        raise SeriesRefusedError("Pick one of the times offered near the planned visit.")
    clash = _patient_clash(
        patient=visit.patient, appointment_type=visit.appointment_type, start=start
    )
    if clash is not None:
        raise services.BookingRefusedError(clash)
    note = _visit_note(number, visit.total)
    if start != visit.planned:
        note += f", in place of {_local(visit.planned)}"
    appointment = services.appointment_book(
        context=context,
        user=user,
        patient=visit.patient,
        schedule=visit.schedule,
        appointment_type=visit.appointment_type,
        start=start,
        note=note,
        series_id=visit.series.pk,
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[visit.patient.pk],
        object_type="appointment_series",
        object_id=visit.series.pk,
        detail={"visit": number, "planned": visit.planned.isoformat(), "booked": appointment.pk},
    )
    return appointment


def _record_not_held(
    *, visit: _Open, user: User, number: int, reason: str, now: dt.datetime
) -> Appointment:
    """A planned visit that will not take place, kept as a cancelled appointment at its
    planned time (it never held the provider's time)."""
    times = services.visit_times(visit.appointment_type, visit.planned)
    appointment = Appointment.objects.create(
        clinic_id=visit.schedule.clinic_id,
        patient=visit.patient,
        schedule=visit.schedule,
        provider_id=visit.schedule.provider_id,
        appointment_type=visit.appointment_type,
        start=times.start,
        end=times.end,
        busy_start=times.busy_start,
        busy_end=times.busy_end,
        status=AppointmentStatus.CANCELLED,
        series=visit.series,
        note=_visit_note(number, visit.total),
        cancel_reason=reason[:200],
        cancelled_by=CancelledBy.CLINIC,
        created_at=now,
        updated_at=now,
    )
    AppointmentHistory.objects.create(
        appointment=appointment,
        at=now,
        by=user,
        from_status="",
        to_status=appointment.status,
        to_start=appointment.start,
        reason=appointment.cancel_reason,
    )
    return appointment


@transaction.atomic
def series_visit_skip(
    *, context: AuditContext, user: User, series_id: int, number: int, reason: str
) -> Appointment:
    """Leave out a visit that could not be booked as planned; the series goes on without it."""
    visit = _open_visit(user, series_id, number)
    why = reason.strip() or "not booked"
    appointment = _record_not_held(
        visit=visit, user=user, number=number, reason=f"Skipped: {why}", now=timezone.now()
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[visit.patient.pk],
        object_type="appointment_series",
        object_id=visit.series.pk,
        detail={"visit": number, "skipped": visit.planned.isoformat(), "reason": why},
    )
    return appointment


@transaction.atomic
def series_cancel_remaining(
    *,
    context: AuditContext,
    user: User,
    series_id: int,
    cancelled_by: CancelledBy,
    reason: str,
) -> int:
    """Cancel every visit of the series from now on, in one transaction: booked ones through
    `services.appointment_cancel` (each audited, late ones flagged), and planned visits not
    booked yet are closed as skipped. Returns how many booked appointments were cancelled."""
    why = reason.strip()
    if not why:
        raise SeriesRefusedError("Say why the rest of the series is cancelled.")
    series, patient = access_series(user, series_id)
    AppointmentSeries.objects.select_for_update().filter(pk=series.pk).first()
    now = timezone.now()
    appointments = _series_appointments(series)
    cancelled = 0
    for appointment in appointments:
        if appointment.status in _OPEN and appointment.start >= now:
            services.appointment_cancel(
                context=context,
                user=user,
                appointment=appointment,
                cancelled_by=cancelled_by,
                reason=why,
            )
            cancelled += 1
    planned = series_starts(series.rrule)
    taken = {visit_number(a) for a in appointments}
    closed: list[int] = []
    if appointments:
        first = appointments[0]
        for number, start in enumerate(planned, start=1):
            if number in taken or start < now:
                continue
            visit = _Open(
                series, patient, first.schedule, first.appointment_type, start, len(planned)
            )
            _record_not_held(
                visit=visit,
                user=user,
                number=number,
                reason=f"Skipped: series cancelled ({why})",
                now=now,
            )
            closed.append(number)
    if not cancelled and not closed:
        raise SeriesRefusedError("No visit of this series is left to cancel.")
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type="appointment_series",
        object_id=series.pk,
        detail={
            "cancelled_remaining": cancelled,
            "closed_unbooked": closed,
            "cancelled_by": str(cancelled_by),
            "reason": why,
        },
    )
    return cancelled
