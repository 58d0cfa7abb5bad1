"""The provider's week: seven clinic-local days side by side on one time grid.

Rows are wall-clock times in the clinic's zone, so 09:00 is one row all week even when the
week holds a daylight-saving change (09:00 is 13:00 UTC before it and 14:00 UTC after). A row
that does not exist on a day (the hour skipped in spring) is shown as such; in autumn the
repeated hour is shown once, at its first occurrence (clinics are closed at 01:00).
Free times come from `availability.free_slots` for one appointment type, so every slot offered
here is one the booking check accepts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may, staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType, Clinic, Provider
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.selectors import PatientAccessDeniedError
from frontdesk.scheduling.availability import (
    FreeSlot,
    Session,
    free_slots,
    template_sessions,
)
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
)

GRID_MINUTES = 15
DAYS = 7
# Enough for every 5-minute slot of seven 24-hour days.
_MOST_SLOTS = DAYS * 24 * 12


@dataclass
class WeekCell:
    # "start" (appointments begin here), "covered" (under the rowspan above), "busy",
    # "free" (bookable times begin here), "block", "holiday", "open" (working, nothing to book
    # for this type), "closed", "gap" (a local time that does not exist that day)
    kind: str
    appointment: Appointment | None = None
    rows: int = 1
    also: list[Appointment] = field(default_factory=list)  # overbooked into the same time
    slots: list[FreeSlot] = field(default_factory=list)
    label: str = ""  # shown in the cell
    title: str = ""  # what the cell is, even where the label is left out


@dataclass
class WeekDay:
    day: dt.date
    holiday: str = ""
    booked: int = 0


@dataclass
class WeekRow:
    time: dt.time  # clinic-local wall-clock time
    cells: list[WeekCell]


@dataclass
class WeekView:
    provider: Provider
    monday: dt.date
    days: list[WeekDay]
    rows: list[WeekRow]
    schedules: list[Schedule]
    appointment_type: AppointmentType | None
    patient_ids: list[int]


def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_providers(clinic: Clinic) -> QuerySet[Provider]:
    """Providers of the clinic with an active schedule, for the week view's chooser."""
    return (
        Provider.objects.filter(clinic=clinic, is_active=True, schedules__is_active=True)
        .distinct()
        .order_by("family_name", "given_name", "pk")
    )


def provider_appointment_types(provider: Provider) -> QuerySet[AppointmentType]:
    """Types the provider may see, shortest first (the finest view of free time)."""
    return (
        AppointmentType.objects.filter(clinic_id=provider.clinic_id)
        .filter(Q(allowed_providers__isnull=True) | Q(allowed_providers=provider))
        .distinct()
        .order_by("duration_minutes", "name", "pk")
    )


def _block_label(block: Block) -> str:
    if block.kind == BlockKind.LEAVE:
        return "Leave"
    if block.kind == BlockKind.RESERVED:
        names = ", ".join(t.name for t in block.appointment_types.all())
        return f"Reserved for {names}" if names else "Reserved"
    return f"Blocked ({block.reason})" if block.reason else "Blocked"


def _local_minutes(when: dt.datetime, day: dt.date, zone: dt.tzinfo) -> int:
    """Minutes since local midnight of `day`, clipped to the day."""
    local = when.astimezone(zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def week_view(
    user: User,
    *,
    provider: Provider,
    day: dt.date,
    appointment_type: AppointmentType | None,
    now: dt.datetime | None = None,
) -> WeekView:
    """The provider's week holding `day`, Monday to Sunday, with free times for the type."""
    if not role_may(user.role, Action.APPOINTMENT_VIEW) or user.clinic_id != provider.clinic_id:
        raise PatientAccessDeniedError(Action.APPOINTMENT_VIEW)
    zone = clinic_zone(staff_clinic(user))
    monday = week_monday(day)
    days = [monday + dt.timedelta(days=n) for n in range(DAYS)]
    # Local midnights, so a week with a daylight-saving change is 167 or 169 hours long.
    lo = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    hi = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(
        dt.UTC
    )
    schedules = list(
        Schedule.objects.filter(clinic_id=user.clinic_id, provider=provider, is_active=True)
        .select_related("provider", "location")
        .order_by("location__name", "pk")
    )
    sessions: list[Session] = [
        s
        for schedule in schedules
        for s in template_sessions(schedule=schedule, day_from=days[0], day_to=days[-1])
    ]
    holidays = dict(
        ClinicHoliday.objects.filter(
            clinic_id=user.clinic_id, date__gte=days[0], date__lte=days[-1]
        ).values_list("date", "name")
    )
    appointments = list(
        Appointment.objects.filter(
            clinic_id=user.clinic_id,
            provider=provider,
            status__in=ACTIVE_STATUSES,
            start__lt=hi,
            end__gt=lo,
        )
        .select_related("patient", "appointment_type", "schedule__location")
        .order_by("start", "is_overbook", "pk")
    )
    # Leave is the provider's wherever it was entered; other blocks belong to their schedule.
    blocks = list(
        Block.objects.filter(start__lt=hi, end__gt=lo)
        .filter(Q(schedule__in=schedules) | Q(kind=BlockKind.LEAVE, schedule__provider=provider))
        .prefetch_related("appointment_types")
        .order_by("start", "pk")
    )
    slots = (
        free_slots(
            appointment_type=appointment_type,
            schedules=schedules,
            start=lo,
            end=hi,
            now=now or timezone.now(),
            limit=_MOST_SLOTS,
        )
        if appointment_type is not None and schedules
        else []
    )

    week_days = [WeekDay(d, holidays.get(d, "")) for d in days]
    for appointment in appointments:
        local_day = appointment.start.astimezone(zone).date()
        if monday <= local_day <= days[-1]:
            week_days[(local_day - monday).days].booked += 1

    # The grid spans the earliest start to the latest end of any session or appointment.
    spans = [(s.start, s.end) for s in sessions] + [(a.start, a.end) for a in appointments]
    edges = [
        (_local_minutes(start, d, zone), _local_minutes(end, d, zone))
        for start, end in spans
        for d in days
        if start.astimezone(zone).date() <= d <= end.astimezone(zone).date()
    ]
    edges = [(a, b) for a, b in edges if b > a]
    if not edges:
        return WeekView(provider, monday, week_days, [], schedules, appointment_type, [])
    first = min(a for a, _ in edges) // GRID_MINUTES * GRID_MINUTES
    last = max(b for _, b in edges)
    minutes = list(range(first, last, GRID_MINUTES))
    step = dt.timedelta(minutes=GRID_MINUTES)

    columns: list[list[WeekCell]] = []
    for week_day in week_days:
        d = week_day.day
        column: list[WeekCell] = []
        skip = 0
        day_slots = [s for s in slots if s.start.astimezone(zone).date() == d]
        for index, minute in enumerate(minutes):
            if skip:
                skip -= 1
                column.append(WeekCell("covered"))
                continue
            wall = dt.datetime.combine(d, dt.time(minute // 60, minute % 60))
            moment = wall.replace(tzinfo=zone).astimezone(dt.UTC)
            if moment.astimezone(zone).replace(tzinfo=None) != wall:
                column.append(WeekCell("gap", label="No such time (clocks go forward)"))
                continue
            until = moment + step
            starting = [a for a in appointments if moment <= a.start < until]
            if starting:
                main = starting[0]
                rows = max(1, -(-(main.end - moment) // step))
                rows = min(rows, len(minutes) - index)
                # Overbooked visits starting under this one are listed with it, not hidden.
                below = moment + step * rows
                also = [a for a in appointments if a is not main and moment <= a.start < below]
                column.append(WeekCell("start", main, rows, also))
                skip = rows - 1
                continue
            if any(a.start < moment < a.end for a in appointments):
                column.append(WeekCell("busy"))
                continue
            here = [s for s in day_slots if moment <= s.start < until]
            if here:
                column.append(WeekCell("free", slots=here))
                continue
            blocking = [b for b in blocks if b.start < until and b.end > moment]
            if blocking:
                # Named once, at the top of its run of rows.
                label = _block_label(blocking[0])
                above = column[-1] if column else None
                repeat = above is not None and above.kind == "block" and above.title == label
                column.append(WeekCell("block", label="" if repeat else label, title=label))
                continue
            if week_day.holiday:
                column.append(WeekCell("holiday", label=week_day.holiday))
                continue
            working = any(s.start <= moment and until <= s.end for s in sessions)
            column.append(WeekCell("open" if working else "closed"))
        columns.append(column)

    grid = [
        WeekRow(dt.time(minute // 60, minute % 60), [column[i] for column in columns])
        for i, minute in enumerate(minutes)
    ]
    return WeekView(
        provider,
        monday,
        week_days,
        grid,
        schedules,
        appointment_type,
        sorted({a.patient_id for a in appointments}),
    )


def week_for_view(
    user: User,
    *,
    context: AuditContext,
    provider: Provider,
    day: dt.date,
    appointment_type: AppointmentType | None,
) -> WeekView:
    """`week_view` for the week page, recording the patients it shows on their access logs."""
    view = week_view(user, provider=provider, day=day, appointment_type=appointment_type)
    if view.patient_ids:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=view.patient_ids,
            object_type=AuditObject.WEEK_VIEW,
            object_id=provider.pk,
            detail={"week_of": view.monday.isoformat()},
        )
    return view
