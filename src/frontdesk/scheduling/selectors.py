"""Reads of the schedule: the front desk's day view, a patient's appointments, overlaps."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may, staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType
from frontdesk.lib.clinic_time import clinic_zone, local_midnight
from frontdesk.patients.selectors import PatientAccessDeniedError, patient_access_check
from frontdesk.scheduling.availability import (
    FreeSlot,
    Session,
    SlotPreferences,
    free_slots,
    template_sessions,
)
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Block,
    BlockKind,
    Schedule,
)

ZERO = dt.timedelta(0)


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


# What the day view's colours mean, in the order its legend lists them. Each key is a CSS class
# `status-<key>` (static/frontdesk/app.css); every cell also says its meaning in words, so colour
# is never the only cue.
DAY_LEGEND: tuple[tuple[str, str], ...] = (
    ("proposed", "Proposed"),
    ("pending", "Pending"),
    ("booked", "Booked"),
    ("confirmed", "Confirmed"),
    ("arrived", "Arrived"),
    ("checked-in", "Checked in"),
    ("fulfilled", "Seen"),
    ("overbook", "Overbooked"),
    ("reserved", "Reserved"),
    ("adhoc", "Blocked"),
    ("leave", "Leave"),
    ("free", "Free"),
    ("closed", "Not working"),
)
# The finest grid drawn: a schedule's grid is at least 5 minutes (`template_grid_range`).
FINEST_GRID_MINUTES = 5


def appointment_colour(appointment: Appointment) -> str:
    """The legend key of an appointment: its status, with a booking the patient confirmed
    shown apart."""
    if appointment.status == AppointmentStatus.BOOKED and appointment.confirmed_at is not None:
        return "confirmed"
    return str(appointment.status)


@dataclass
class DayCell:
    kind: str  # "closed", "free", "start", "covered" (by a start above), "busy", "block"
    appointment: Appointment | None = None
    rows: int = 1
    also: list[Appointment] = field(default_factory=list)  # overbooked into the same rows
    start: dt.datetime | None = None  # a free cell's time on its schedule's grid, for booking
    schedule_id: int | None = None
    colour: str = ""  # a key of DAY_LEGEND
    label: str = ""  # a block's words, on the first row it covers

    @property
    def overbooked(self) -> bool:
        """The cell holds an overbooked visit (its own, or one squeezed in beside it)."""
        return any(
            a.is_overbook for a in [*([self.appointment] if self.appointment else []), *self.also]
        )


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
    step_minutes: int = FINEST_GRID_MINUTES
    legend: tuple[tuple[str, str], ...] = DAY_LEGEND


def day_grid_minutes(sessions: list[Session], zone: dt.tzinfo) -> int:
    """The rows' step: the greatest common divisor of every session's own grid and of its start
    (minutes after midnight), so each bookable start of every provider shown falls on a row
    start: a 10-minute schedule gets 10-minute rows, a 10- beside a 15-minute one 5-minute rows.
    One grid for all columns keeps a row one moment across providers, which the desk reads
    along; separate grids per column could not share the table's rows."""
    parts = []
    for session in sessions:
        local = session.start.astimezone(zone)
        parts += [session.slot_minutes, local.hour * 60 + local.minute]
    return max(FINEST_GRID_MINUTES, math.gcd(*parts))


def _block_label(block: Block) -> str:
    if block.kind == BlockKind.LEAVE:
        return "Leave"
    if block.kind == BlockKind.RESERVED:
        return "Reserved"
    return f"Blocked ({block.reason})" if block.reason else "Blocked"


def _day_blocks(schedules: list[Schedule], lo: dt.datetime, hi: dt.datetime) -> list[Block]:
    """The day's blocks of the schedules shown; leave is the provider's wherever it was entered."""
    return list(
        Block.objects.filter(start__lt=hi, end__gt=lo)
        .filter(
            Q(schedule__in=schedules)
            | Q(kind=BlockKind.LEAVE, schedule__provider__in={s.provider_id for s in schedules})
        )
        .select_related("schedule")
        .order_by("start", "pk")
    )


def _column(
    schedule: Schedule,
    *,
    times: list[dt.datetime],
    step: dt.timedelta,
    mine: list[Appointment],
    sessions: list[Session],
    blocks: list[Block],
) -> DayColumn:
    column = DayColumn(schedule, booked=len(mine))
    last = times[-1] + step
    skip = 0
    shown_block: Block | None = None
    for index, moment in enumerate(times):
        if skip:
            skip -= 1
            column.cells.append(DayCell("covered"))  # under the rowspan above
            continue
        # An appointment off the grid (moved by hand, or from an older grid) sits in the row
        # its start falls in and shows its own start time.
        starting = [a for a in mine if moment <= a.start < moment + step]
        if starting:
            appointment = starting[0]
            rows = max(1, min(-(-(appointment.end - moment) // step), len(times) - index))
            until = min(moment + step * rows, last)
            also = [a for a in mine if a is not appointment and moment <= a.start < until]
            colour = appointment_colour(appointment)
            column.cells.append(DayCell("start", appointment, rows, also, colour=colour))
            skip = rows - 1
            shown_block = None
            continue
        if any(a.start < moment < a.end for a in mine):
            column.cells.append(DayCell("busy"))
            shown_block = None
            continue
        session = next((s for s in sessions if s.start <= moment and moment + step <= s.end), None)
        block = next((b for b in blocks if b.start < moment + step and b.end > moment), None)
        if block is not None and (session is not None or block.kind == BlockKind.LEAVE):
            label = "" if block is shown_block else _block_label(block)
            column.cells.append(DayCell("block", colour=str(block.kind), label=label))
            shown_block = block
            continue
        shown_block = None
        if session is None:
            column.cells.append(DayCell("closed", colour="closed"))
            continue
        # Free time between the schedule's own grid points (a finer row of another provider)
        # is shown free but offers no booking there.
        on_grid = (moment - session.start) % dt.timedelta(minutes=session.slot_minutes) == ZERO
        column.cells.append(
            DayCell(
                "free",
                start=moment if on_grid else None,
                schedule_id=schedule.pk,
                colour="free",
            )
        )
    return column


def day_grid(user: User, *, day: dt.date, location_id: int | None = None) -> DayView:
    """Providers as columns for one clinic-local day, on rows as fine as the schedules' own
    grids (`day_grid_minutes`). Queries: the schedules, two per schedule for its templates and
    holidays, the day's appointments and its blocks; not one per appointment."""
    zone = clinic_zone(staff_clinic(user))
    schedules = list(schedules_for(user))
    if location_id is not None:
        schedules = [s for s in schedules if s.location_id == location_id]
    sessions: dict[int, list[Session]] = {
        s.pk: template_sessions(schedule=s, day_from=day, day_to=day) for s in schedules
    }
    every_session = [x for ss in sessions.values() for x in ss]
    if not every_session:
        return DayView(day, [], [DayColumn(s) for s in schedules], [])
    minutes = day_grid_minutes(every_session, zone)
    step = dt.timedelta(minutes=minutes)
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    appointments = list(
        _appointments_for(user)
        .filter(
            schedule__in=schedules,
            status__in=ACTIVE_STATUSES,
            start__lt=next_midnight,
            end__gt=midnight,
        )
        .select_related("patient", "appointment_type")
        .order_by("start", "pk")
    )
    # The rows run from the first session or appointment to the last, so a visit moved by hand
    # outside the hours is still drawn.
    first = min([x.start for x in every_session] + [max(a.start, midnight) for a in appointments])
    last = max([x.end for x in every_session] + [min(a.end, next_midnight) for a in appointments])
    first = first.astimezone(zone)
    offset = (first.hour * 60 + first.minute) % minutes
    first = first.replace(second=0, microsecond=0) - dt.timedelta(minutes=offset)
    times = []
    moment = first
    while moment < last:
        times.append(moment)
        moment += step
    blocks = _day_blocks(schedules, first, last)
    by_schedule: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        by_schedule.setdefault(appointment.schedule_id, []).append(appointment)
    columns = [
        _column(
            schedule,
            times=times,
            step=step,
            mine=by_schedule.get(schedule.pk, []),
            sessions=sessions[schedule.pk],
            blocks=[
                b
                for b in blocks
                if b.schedule_id == schedule.pk
                or (b.kind == BlockKind.LEAVE and b.schedule.provider_id == schedule.provider_id)
            ],
        )
        for schedule in schedules
    ]
    return DayView(
        day, times, columns, sorted({a.patient_id for a in appointments}), step_minutes=minutes
    )


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


# --- Find a time: a week of free times, one day shown ---------------------------------------

WEEK_DAYS = 7
# A cap on the times one week may list (a clinic with many providers); the day row counts them.
WEEK_SLOTS = 3000


@dataclass
class FreeDay:
    day: dt.date
    slots: list[FreeSlot]


@dataclass
class FreeWeek:
    """Seven clinic-local days from `days[0]`, each with its free times; `shown` is the day
    whose times are listed (the one asked for, or else the first with a free time)."""

    days: list[FreeDay]
    shown: FreeDay

    @property
    def first(self) -> dt.date:
        return self.days[0].day

    @property
    def later(self) -> dt.date:
        """The first day of the following week."""
        return self.first + dt.timedelta(days=WEEK_DAYS)


def free_week(
    *,
    appointment_type: AppointmentType,
    schedules: QuerySet[Schedule],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    preferences: SlotPreferences,
    day: dt.date | None = None,
) -> FreeWeek | None:
    """The week of free times from `start`'s day, or, when that week has none, from the day of
    the first free time before `end`; None when nothing is free before `end`."""
    zone = clinic_zone(appointment_type.clinic_id)

    def week_from(first: dt.date) -> list[FreeDay]:
        slots = free_slots(
            appointment_type=appointment_type,
            schedules=schedules,
            start=max(start, local_midnight(first, zone)),
            end=min(end, local_midnight(first + dt.timedelta(days=WEEK_DAYS), zone)),
            now=now,
            preferences=preferences,
            limit=WEEK_SLOTS,
        )
        days = [FreeDay(first + dt.timedelta(days=i), []) for i in range(WEEK_DAYS)]
        for slot in slots:
            index = (slot.start.astimezone(zone).date() - first).days
            if 0 <= index < WEEK_DAYS:
                days[index].slots.append(slot)
        return days

    days = week_from(max(start, now).astimezone(zone).date())
    if not any(d.slots for d in days):
        found = free_slots(
            appointment_type=appointment_type,
            schedules=schedules,
            start=start,
            end=end,
            now=now,
            preferences=preferences,
            limit=1,
        )
        if not found:
            return None
        days = week_from(found[0].start.astimezone(zone).date())
    with_times = [d for d in days if d.slots]
    if not with_times:
        return None
    shown = next((d for d in with_times if d.day == day), with_times[0])
    return FreeWeek(days=days, shown=shown)


# Reads for pages, each recording on the patients' access logs what the page shows of them.


def day_for_view(
    user: User, *, context: AuditContext, day: dt.date, location_id: int | None = None
) -> DayView:
    view = day_grid(user, day=day, location_id=location_id)
    if view.patient_ids:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=view.patient_ids,
            object_type=AuditObject.DAY_VIEW,
            detail={"date": day.isoformat()},
        )
    return view


def appointment_for_view(user: User, *, context: AuditContext, appointment_id: int) -> Appointment:
    """`access_appointment` for the appointment's own page."""
    appointment = access_appointment(user, appointment_id)
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.APPOINTMENT,
        object_id=appointment.pk,
    )
    return appointment
