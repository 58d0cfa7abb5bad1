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
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from dateutil.rrule import WEEKLY, rrule  # type: ignore[import-untyped, unused-ignore]
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import patient_access_check
from frontdesk.scheduling import availability, services
from frontdesk.scheduling.availability import FreeSlot, free_slots, provider_label
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    CancelledBy,
    Schedule,
    SeriesVisit,
    SeriesVisitStatus,
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


def _visit_note(number: int, total: int) -> str:
    return f"Series visit {number} of {total}"


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

# Visits that still wait for the officer: not booked, not skipped, not cancelled.
_WAITING = (SeriesVisitStatus.PLANNED, SeriesVisitStatus.CONFLICT)


@dataclass(frozen=True)
class SeriesOutcome:
    series: AppointmentSeries
    booked: list[Appointment]
    conflicts: list[Occurrence]


@transaction.atomic
def series_book(
    *, context: AuditContext, user: User, patient: Patient, plan: SeriesPlan
) -> SeriesOutcome:
    """Create the series with one visit per planned occurrence and book every visit that is
    free now; the others are left as conflicts, each with its reason.

    One transaction: the series, its visits and its appointments commit together. Each visit
    goes through `services.appointment_book` (in its own savepoint), so the database's no-double-
    booking rule holds and a visit taken since the preview becomes a conflict, not an error.
    SeriesRefusedError (nothing kept) when not a single visit can be booked.
    """
    now = timezone.now()
    series = AppointmentSeries.objects.create(
        patient=patient,
        schedule=plan.schedule,
        appointment_type=plan.appointment_type,
        rrule=plan.rrule,
        count=plan.count,
        until=plan.until,
        created_at=now,
        created_by=user,
    )
    SeriesVisit.objects.bulk_create(
        SeriesVisit(series=series, position=number, planned_start=start)
        for number, start in enumerate(plan.starts, start=1)
    )
    visits = SeriesVisit.objects.filter(series=series)
    total = len(plan.starts)
    booked: list[Appointment] = []
    conflicts: list[Occurrence] = []
    for number, start in enumerate(plan.starts, start=1):
        problem = _patient_clash(
            patient=patient, appointment_type=plan.appointment_type, start=start
        )
        if problem is None:
            try:
                appointment = services.appointment_book(
                    context=context,
                    user=user,
                    patient=patient,
                    schedule=plan.schedule,
                    appointment_type=plan.appointment_type,
                    start=start,
                    note=_visit_note(number, total),
                    series_id=series.pk,
                )
            except services.SlotTakenError:
                problem = "That time was just taken by another booking"
            except services.BookingRefusedError as exc:
                problem = str(exc)
            else:
                booked.append(appointment)
                visits.filter(position=number).update(
                    status=SeriesVisitStatus.BOOKED, appointment=appointment
                )
                continue
        conflicts.append(Occurrence(number, start, problem))
        visits.filter(position=number).update(
            status=SeriesVisitStatus.CONFLICT, conflict_reason=problem[:200]
        )
    if not booked:  # raising rolls the series and its visits back with everything else
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
    number: int | None  # None: an appointment of the series that belongs to no planned visit
    planned: dt.datetime | None
    appointment: Appointment | None = None
    status: str = ""  # the visit's SeriesVisitStatus
    reason: str = ""  # why it was skipped, cancelled unbooked, or not booked as planned
    problem: str | None = None  # for a visit not booked yet: why not, as of now
    options: list[FreeSlot] = field(default_factory=list)

    @property
    def state(self) -> str:
        """unresolved, skipped, cancelled, moved, or the booked appointment's own status."""
        a = self.appointment
        if self.status in _WAITING:
            return "unresolved"
        if self.status == SeriesVisitStatus.SKIPPED:
            return "skipped"
        if a is None:
            return "cancelled" if self.status == SeriesVisitStatus.CANCELLED else "unresolved"
        if a.status == AppointmentStatus.BOOKED and self.planned and a.start != self.planned:
            return "moved"
        return str(a.status)

    @property
    def waiting(self) -> bool:
        return self.number is not None and self.status in _WAITING


@dataclass
class SeriesPage:
    series: AppointmentSeries
    patient: Patient
    schedule: Schedule
    appointment_type: AppointmentType
    rows: list[SeriesRow]

    @property
    def unresolved(self) -> list[SeriesRow]:
        return [r for r in self.rows if r.waiting]

    @property
    def remaining(self) -> int:
        now = timezone.now()
        return sum(
            1
            for r in self.rows
            if (r.waiting and r.planned is not None and r.planned >= now)
            or (
                r.appointment is not None
                and r.appointment.status in _OPEN
                and r.appointment.start >= now
            )
        )


def access_series(user: User, series_id: int) -> tuple[AppointmentSeries, Patient]:
    """The series (with its schedule and type) and its patient, if this user may see the
    patient (same clinic, and a restricted record only after breaking the glass)."""
    if user.clinic_id is None:
        raise Http404("No such series")
    series = (
        AppointmentSeries.objects.filter(pk=series_id, patient__clinic_id=user.clinic_id)
        .select_related(
            "patient", "schedule__provider", "schedule__location", "appointment_type", "created_by"
        )
        .first()
    )
    if series is None:
        raise Http404("No such series")
    return series, patient_access_check(user, series.patient)


def _series_visits(series: AppointmentSeries) -> list[SeriesVisit]:
    return list(
        SeriesVisit.objects.filter(series=series)
        .select_related("appointment__provider", "appointment__appointment_type")
        .order_by("position")
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


def _waiting_row(
    row: SeriesRow,
    *,
    planned: dt.datetime,
    series: AppointmentSeries,
    patient: Patient,
    now: dt.datetime,
) -> None:
    """Why a visit not booked yet still cannot be booked as planned, and what to pick instead:
    the planned time itself once it is free, else nearby free times (none for a long past
    visit)."""
    schedule, kind = series.schedule, series.appointment_type
    row.problem = occurrence_problem(
        patient=patient, schedule=schedule, appointment_type=kind, start=planned, now=now
    )
    if row.problem is None:
        end = planned + dt.timedelta(minutes=kind.duration_minutes)
        row.options = [FreeSlot(schedule, schedule.provider, schedule.location, planned, end)]
    elif planned >= now - dt.timedelta(days=NEARBY_DAYS):
        row.options = _nearby_options(
            patient=patient, schedule=schedule, appointment_type=kind, planned=planned, now=now
        )


def series_page(*, context: AuditContext, user: User, series_id: int) -> SeriesPage:
    """Every planned visit of the series with its status and appointment or, when it has none
    yet, why and the nearby free times to choose from (audited as a view of the patient)."""
    series, patient = access_series(user, series_id)
    now = timezone.now()
    rows: list[SeriesRow] = []
    for visit in _series_visits(series):
        row = SeriesRow(
            visit.position,
            visit.planned_start,
            visit.appointment,
            visit.status,
            visit.skip_reason or visit.conflict_reason,
        )
        if row.waiting:
            _waiting_row(row, planned=visit.planned_start, series=series, patient=patient, now=now)
        rows.append(row)
    # Appointments of the series outside its planned visits (kept from before visits were
    # recorded) are listed after them, so nothing of the series is hidden.
    extras = (
        Appointment.objects.filter(series=series, series_visit__isnull=True)
        .select_related("provider", "appointment_type")
        .order_by("start", "pk")
    )
    rows.extend(SeriesRow(None, None, a, str(a.status)) for a in extras)
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type="appointment_series",
        object_id=series.pk,
    )
    return SeriesPage(series, patient, series.schedule, series.appointment_type, rows)


# --- Resolving and cancelling ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    series: AppointmentSeries
    patient: Patient
    visit: SeriesVisit
    total: int


def _open_visit(user: User, series_id: int, number: int) -> _Open:
    """A visit of the series that waits for the officer, its row locked so that two officers
    cannot resolve it twice (on SQLite the IMMEDIATE transaction already serialises writers).
    Call inside a transaction."""
    series, patient = access_series(user, series_id)
    visit = SeriesVisit.objects.select_for_update().filter(series=series, position=number).first()
    if visit is None:
        raise Http404("No such visit in this series")
    if visit.status not in _WAITING:
        raise SeriesRefusedError(f"Visit {number} has already been dealt with.")
    return _Open(series, patient, visit, SeriesVisit.objects.filter(series=series).count())


@transaction.atomic
def series_visit_book(
    *, context: AuditContext, user: User, series_id: int, number: int, start: dt.datetime
) -> Appointment:
    """Book a visit of the series that could not be booked as planned at `start` (one of its
    nearby options, or the planned time once it is free)."""
    found = _open_visit(user, series_id, number)
    visit, series = found.visit, found.series
    if abs(start - visit.planned_start) > NEAR_ENOUGH:
        raise SeriesRefusedError("Pick one of the times offered near the planned visit.")
    clash = _patient_clash(
        patient=found.patient, appointment_type=series.appointment_type, start=start
    )
    if clash is not None:
        raise services.BookingRefusedError(clash)
    note = _visit_note(number, found.total)
    if start != visit.planned_start:
        note += f", in place of {_local(visit.planned_start)}"
    appointment = services.appointment_book(
        context=context,
        user=user,
        patient=found.patient,
        schedule=series.schedule,
        appointment_type=series.appointment_type,
        start=start,
        note=note,
        series_id=series.pk,
    )
    visit.status = SeriesVisitStatus.BOOKED
    visit.appointment = appointment
    visit.save(update_fields=["status", "appointment"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[found.patient.pk],
        object_type="appointment_series",
        object_id=series.pk,
        detail={
            "visit": number,
            "planned": visit.planned_start.isoformat(),
            "booked": appointment.pk,
        },
    )
    return appointment


@transaction.atomic
def series_visit_skip(
    *, context: AuditContext, user: User, series_id: int, number: int, reason: str
) -> SeriesVisit:
    """Leave out a visit that could not be booked as planned; the series goes on without it.
    Nothing is booked or cancelled: the visit never held the provider's time."""
    found = _open_visit(user, series_id, number)
    why = reason.strip() or "not booked"
    visit = found.visit
    visit.status = SeriesVisitStatus.SKIPPED
    visit.skip_reason = why[:200]
    visit.save(update_fields=["status", "skip_reason"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[found.patient.pk],
        object_type="appointment_series",
        object_id=found.series.pk,
        detail={"visit": number, "skipped": visit.planned_start.isoformat(), "reason": why},
    )
    return visit


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
    booked yet are closed with the reason. Returns how many booked appointments were
    cancelled.

    A visit whose appointment is no longer open (cancelled or marked a no-show from the
    appointment page) is left as it is. The appointment rows are locked and read afresh first,
    so one cancelled from its page a moment ago is skipped, not an error."""
    why = reason.strip()
    if not why:
        raise SeriesRefusedError("Say why the rest of the series is cancelled.")
    series, patient = access_series(user, series_id)
    now = timezone.now()
    visits = list(
        SeriesVisit.objects.select_for_update().filter(series=series).order_by("position")
    )
    held_ids = sorted(v.appointment_id for v in visits if v.appointment_id is not None)
    current = {
        a.pk: a
        for a in Appointment.objects.select_for_update().filter(pk__in=held_ids).order_by("pk")
    }
    cancelled: list[int] = []
    closed: list[int] = []
    for visit in visits:
        held = current.get(visit.appointment_id) if visit.appointment_id is not None else None
        if held is not None and held.status in _OPEN and held.start >= now:
            services.appointment_cancel(
                context=context,
                user=user,
                appointment=held,
                cancelled_by=cancelled_by,
                reason=why,
            )
            cancelled.append(visit.position)
        elif visit.status in _WAITING and visit.planned_start >= now:
            visit.skip_reason = f"Series cancelled: {why}"[:200]
            closed.append(visit.position)
        else:
            continue
        visit.status = SeriesVisitStatus.CANCELLED
        visit.save(update_fields=["status", "skip_reason"])
    if not cancelled and not closed:
        raise SeriesRefusedError("No visit of this series is left to cancel.")
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type="appointment_series",
        object_id=series.pk,
        detail={
            "cancelled_remaining": len(cancelled),
            "cancelled_visits": cancelled,
            "closed_unbooked": closed,
            "cancelled_by": str(cancelled_by),
            "reason": why,
        },
    )
    return len(cancelled)
