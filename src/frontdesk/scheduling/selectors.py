"""Reads of the schedule: the front desk's day view, a patient's appointments, overlaps."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.patients.selectors import PatientAccessDeniedError, patient_access_check
from frontdesk.scheduling.availability import Session, template_sessions
from frontdesk.scheduling.models import ACTIVE_STATUSES, Appointment, Schedule

GRID_MINUTES = 15


def clinic_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)


def _appointments_for(user: User) -> QuerySet[Appointment]:
    if not role_may(user.role, Action.APPOINTMENT_VIEW) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.APPOINTMENT_VIEW)
    return Appointment.objects.filter(clinic_id=user.clinic_id)


def access_appointment(user: User, appointment_id: int) -> Appointment:
    """The appointment, if its patient opens for this user as on their chart (a restricted
    record raises `BreakGlassRequiredError` before anything is shown or changed)."""
    try:
        appointment = (
            _appointments_for(user)
            .select_related("patient", "provider", "appointment_type", "schedule__location")
            .get(pk=appointment_id)
        )
    except Appointment.DoesNotExist:
        raise Http404("No such appointment") from None
    patient_access_check(user, appointment.patient)
    return appointment


def schedules_for(user: User) -> QuerySet[Schedule]:
    if user.clinic_id is None:
        return Schedule.objects.none()
    return (
        Schedule.objects.filter(clinic_id=user.clinic_id, is_active=True)
        .select_related("provider", "location")
        .order_by("location__name", "provider__family_name", "provider__given_name")
    )


@dataclass
class DayCell:
    kind: str  # "closed", "free", "start", "covered" (by a start above), "busy"
    appointment: Appointment | None = None
    rows: int = 1
    also: list[Appointment] = field(default_factory=list)  # overbooked into the same time
    start: dt.datetime | None = None  # a free cell's time and schedule, for booking it
    schedule_id: int | None = None


@dataclass
class DayColumn:
    schedule: Schedule
    cells: list[DayCell] = field(default_factory=list)
    booked: int = 0


@dataclass
class DayView:
    day: dt.date
    times: list[dt.datetime]  # aware, clinic zone
    columns: list[DayColumn]
    patient_ids: list[int]


def day_view(user: User, *, day: dt.date, location_id: int | None = None) -> DayView:
    """Providers as columns on a 15-minute grid for one clinic-local day (three queries)."""
    zone = clinic_zone()
    schedules = list(schedules_for(user))
    if location_id is not None:
        schedules = [s for s in schedules if s.location_id == location_id]
    sessions: dict[int, list[Session]] = {
        s.pk: template_sessions(schedule=s, day_from=day, day_to=day) for s in schedules
    }
    starts = [x.start for ss in sessions.values() for x in ss]
    ends = [x.end for ss in sessions.values() for x in ss]
    if not starts:
        return DayView(day, [], [DayColumn(s) for s in schedules], [])
    first = min(starts).astimezone(zone)
    first = first.replace(minute=first.minute - first.minute % GRID_MINUTES, second=0)
    last = max(ends).astimezone(zone)
    step = dt.timedelta(minutes=GRID_MINUTES)
    times = []
    moment = first
    while moment < last:
        times.append(moment)
        moment += step
    appointments = list(
        _appointments_for(user)
        .filter(
            schedule__in=schedules,
            status__in=ACTIVE_STATUSES,
            start__lt=last,
            end__gt=first,
        )
        .select_related("patient", "appointment_type")
        .order_by("start", "pk")
    )
    by_schedule: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        by_schedule.setdefault(appointment.schedule_id, []).append(appointment)
    columns = []
    for schedule in schedules:
        column = DayColumn(schedule)
        mine = by_schedule.get(schedule.pk, [])
        column.booked = len(mine)
        skip = 0
        for moment in times:
            if skip:
                skip -= 1
                column.cells.append(DayCell("covered"))  # under the rowspan above
                continue
            starting = [a for a in mine if moment <= a.start < moment + step]
            if starting:
                appointment = starting[0]
                rows = max(1, -(-(appointment.end - moment) // step))
                column.cells.append(DayCell("start", appointment, rows, starting[1:]))
                skip = rows - 1
                continue
            covered = any(a.start < moment < a.end for a in mine)
            open_now = any(
                s.start <= moment and moment + step <= s.end for s in sessions[schedule.pk]
            )
            if covered or not open_now:
                column.cells.append(DayCell("busy" if covered else "closed"))
            else:
                column.cells.append(DayCell("free", start=moment, schedule_id=schedule.pk))
        columns.append(column)
    return DayView(day, times, columns, sorted({a.patient_id for a in appointments}))


def patient_appointments(user: User, patient_id: int, *, since: dt.datetime) -> list[Appointment]:
    return list(
        _appointments_for(user)
        .filter(patient_id=patient_id, start__gte=since)
        .select_related("provider", "appointment_type", "schedule__location")
        .order_by("start")[:20]
    )


def patient_overlapping_appointments(
    *, patient_id: int, start: dt.datetime, end: dt.datetime, exclude_id: int | None = None
) -> list[Appointment]:
    """The patient's active appointments with any provider that overlap [start, end)."""
    found = Appointment.objects.filter(
        patient_id=patient_id, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
    ).select_related("provider")
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return list(found)
