"""Reserved and blocked time, and whole-day leave, in clinic local time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.lib.clinic_time import clinic_zone, day_words, local_midnight
from frontdesk.scheduling.availability import template_sessions
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Block,
    BlockKind,
    Schedule,
)
from frontdesk.scheduling.setup.local_time import local_datetime
from frontdesk.scheduling.setup.refusals import SetupRefusedError, days_listed, hh_mm
from frontdesk.scheduling.setup.rules import (
    MOST_REPEATS,
)


@dataclass(frozen=True)
class BlockInput:
    schedule: Schedule
    kind: BlockKind
    day: dt.date
    start_time: dt.time
    end_time: dt.time
    repeat_until: dt.date | None = None
    appointment_types: Sequence[AppointmentType] = field(default_factory=tuple)
    release_days_before: int | None = None
    reason: str = ""


def _occurrences(data: BlockInput) -> list[dt.date]:
    if data.repeat_until is None:
        return [data.day]
    if data.repeat_until < data.day:
        raise SetupRefusedError(
            "Repeat until must be on or after the block's date.", field="repeat_until"
        )
    days = [data.day]
    while days[-1] + dt.timedelta(days=7) <= data.repeat_until:
        days.append(days[-1] + dt.timedelta(days=7))
    if len(days) > MOST_REPEATS:
        raise SetupRefusedError(
            f"That repeats {len(days)} times; at most {MOST_REPEATS} weeks can be entered at once.",
            field="repeat_until",
        )
    return days


def _outside_hours(
    *,
    schedules: Sequence[Schedule],
    intervals: Sequence[tuple[dt.datetime, dt.datetime]],
    zone: dt.tzinfo,
) -> list[dt.date]:
    """Local days of `intervals` that touch none of the schedules' sessions."""
    day_from = min(s.astimezone(zone).date() for s, _ in intervals)
    day_to = max(e.astimezone(zone).date() for _, e in intervals)
    sessions = [
        session
        for schedule in schedules
        for session in template_sessions(schedule=schedule, day_from=day_from, day_to=day_to)
    ]
    return [
        start.astimezone(zone).date()
        for start, end in intervals
        if not any(s.start < end and start < s.end for s in sessions)
    ]


@transaction.atomic
def block_create(*, context: AuditContext, data: BlockInput) -> tuple[list[Block], list[str]]:
    """Reserve or block time on one schedule, once or weekly; times are clinic local time.

    Refused: an end before the start, a time the clocks skip, a start already past, a reserved
    block held for no type. Warned: days outside the provider's hours, bookings already there.
    """
    if data.kind not in (BlockKind.RESERVED, BlockKind.ADHOC):
        raise SetupRefusedError("Choose reserved or blocked time.", field="kind")
    if data.end_time <= data.start_time:
        raise SetupRefusedError("The block must end after it starts.", field="end_time")
    if data.kind == BlockKind.RESERVED and not data.appointment_types:
        raise SetupRefusedError(
            "Choose the appointment types this time is reserved for.", field="appointment_types"
        )
    warnings: list[str] = []
    intervals: list[tuple[dt.datetime, dt.datetime]] = []
    zone = clinic_zone(data.schedule.clinic_id)
    for day in _occurrences(data):
        first = local_datetime(day, data.start_time, zone=zone, field="start_time")
        last = local_datetime(day, data.end_time, zone=zone, field="end_time")
        warnings.extend(
            f"{point.at:%H:%M} happens twice on {day_words(day)} (the clocks go back); "
            f"the first {point.at:%H:%M} is used."
            for point in (first, last)
            if point.ambiguous
        )
        intervals.append((first.at.astimezone(dt.UTC), last.at.astimezone(dt.UTC)))
    now = timezone.now()
    if intervals[0][0] < now:
        raise SetupRefusedError(
            f"{day_words(data.day)} at {hh_mm(data.start_time)} has already passed; blocks are "
            f"for time still to come.",
            field="day",
        )
    schedule = data.schedule
    blocks = [
        Block(
            schedule=schedule,
            kind=data.kind,
            start=start,
            end=end,
            release_days_before=data.release_days_before
            if data.kind == BlockKind.RESERVED
            else None,
            reason=data.reason.strip(),
        )
        for start, end in intervals
    ]
    for block in blocks:
        block.save(force_insert=True)
        if data.kind == BlockKind.RESERVED:
            block.appointment_types.set(data.appointment_types)
    outside = _outside_hours(schedules=[schedule], intervals=intervals, zone=zone)
    if outside:
        warnings.append(
            f"{schedule.provider} has no hours at {schedule.location.name} at that time on "
            f"{days_listed(outside)}, so the block changes nothing there."
        )
    if data.kind == BlockKind.ADHOC:
        clash = Q()
        for start, end in intervals:
            clash |= Q(start__lt=end, end__gt=start)
        booked = Appointment.objects.filter(
            clash, schedule=schedule, status__in=ACTIVE_STATUSES
        ).count()
        if booked:
            warnings.append(
                f"{booked} appointment(s) are already booked in the blocked time; they stay "
                f"booked. Move or cancel them from the day view."
            )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.BLOCK,
        object_id=blocks[0].pk,
        detail={
            "kind": str(data.kind),
            "schedule": schedule.pk,
            "blocks": [b.pk for b in blocks],
            "first": blocks[0].start.isoformat(),
            "types": sorted(t.pk for t in data.appointment_types),
            "release_days_before": data.release_days_before,
        },
    )
    return blocks, warnings


@transaction.atomic
def leave_create(
    *,
    context: AuditContext,
    provider: Provider,
    first_day: dt.date,
    last_day: dt.date,
    reason: str = "",
) -> tuple[Block, list[str]]:
    """Whole days of leave, `first_day` to `last_day` in clinic local dates. Leave is the
    provider's at every location (availability reads it so); it is stored on one schedule."""
    if last_day < first_day:
        raise SetupRefusedError("The last day must be on or after the first day.", field="last_day")
    zone = clinic_zone(provider.clinic_id)
    if first_day < timezone.localdate(timezone=zone):
        raise SetupRefusedError("Leave must start today or later.", field="first_day")
    schedules = list(
        Schedule.objects.filter(provider=provider).select_related("location").order_by("pk")
    )
    if not schedules:
        raise SetupRefusedError(
            f"{provider} has no weekly hours yet, so there is nothing to take leave from. "
            f"Add a template first.",
            field="provider",
        )
    start = local_midnight(first_day, zone)
    end = local_midnight(last_day + dt.timedelta(days=1), zone)
    block = Block(
        schedule=schedules[0],
        kind=BlockKind.LEAVE,
        start=start,
        end=end,
        reason=reason.strip(),
    )
    block.save(force_insert=True)
    warnings = []
    if _outside_hours(schedules=schedules, intervals=[(start, end)], zone=zone):
        warnings.append(f"{provider} has no hours on those days, so the leave changes nothing.")
    booked = Appointment.objects.filter(
        provider=provider, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
    ).count()
    if booked:
        warnings.append(
            f"{booked} appointment(s) with {provider} are already booked during the leave; they "
            f"stay booked. Move or cancel them from the day view."
        )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.BLOCK,
        object_id=block.pk,
        detail={
            "kind": str(BlockKind.LEAVE),
            "provider": provider.pk,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
        },
    )
    return block, warnings


@transaction.atomic
def block_delete(*, context: AuditContext, block: Block) -> None:
    """Give the time back to the schedule."""
    pk, kind, start = block.pk, block.kind, block.start
    block.delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.BLOCK,
        object_id=pk,
        detail={"deleted": kind, "start": start.isoformat()},
    )
