"""Today's patient flow for the demo clinic, so the Today page, the flow board and the
waiting-room screen are alive: every appointment that has started is in the queue in a state
that fits its demo status (seen, with the provider, in a room, called, waiting), plus a walk-in
emergency (called by the demo's nurse, who acknowledged its alert a minute after it was
raised, so the banner shows a handled emergency for a while rather than an open one all day),
a patient who left, and a waiting-room screen. Run once a day (`frontdesk
flow-demo`); a day that already has a queue is left alone.

The same command opens today's cash drawer of every demo officer who takes payments, so a
co-pay can be taken at once (`flow_demo_drawers`)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing.drawer import drawer_close, drawer_open
from frontdesk.billing.drawer_selectors import drawer_totals
from frontdesk.billing.models import CashDrawer, DrawerStatus
from frontdesk.clinic.models import Clinic, Location
from frontdesk.flow import live
from frontdesk.flow.models import (
    PRIORITY_RANK,
    EmergencyAlert,
    FlowStatus,
    Priority,
    QueueEntry,
    QueueEvent,
    TicketCounter,
    WaitingRoomDisplay,
)
from frontdesk.flow.services import queue_for_provider, walk_in_queue
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import denominations
from frontdesk.scheduling.models import Appointment, AppointmentStatus

# The demo's emergency is acknowledged (and its patient called) this long after it was raised.
ACKNOWLEDGED_AFTER = dt.timedelta(minutes=1)
STEPS = (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER, FlowStatus.DONE)


@dataclass(frozen=True)
class FlowDemo:
    entries: int
    by_status: dict[str, int]


def _entry(
    *,
    appointment: Appointment | None,
    clinic: Clinic,
    queue_id: int,
    patient_id: int,
    day: dt.date,
    number: int,
    code: str,
    arrived: dt.datetime,
    path: list[tuple[str, dt.datetime]],
    priority: Priority = Priority.NORMAL,
    reason: str = "",
    room: str = "",
) -> tuple[QueueEntry, list[QueueEvent]]:
    status, since = path[-1] if path else (FlowStatus.WAITING, arrived)
    entry = QueueEntry(
        clinic=clinic,
        queue_id=queue_id,
        patient_id=patient_id,
        appointment=appointment,
        day=day,
        number=number,
        ticket=f"{code}-{number:03d}",
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        priority_reason=reason,
        status=status,
        room=room if status != FlowStatus.WAITING else "",
        checked_in_at=arrived,
        status_changed_at=since,
    )
    events = [QueueEvent(at=arrived, from_status="", to_status=FlowStatus.WAITING)]
    previous: str = FlowStatus.WAITING
    for step, at in path:
        events.append(QueueEvent(at=at, from_status=previous, to_status=step, room=entry.room))
        previous = step
    return entry, events


@transaction.atomic
def flow_demo_today(*, clinic: Clinic, now: dt.datetime, seed: int = 1) -> FlowDemo:
    """Build today's queue from today's appointments (see the module docstring)."""
    zone = clinic_zone(clinic)
    day = now.astimezone(zone).date()
    if QueueEntry.objects.filter(clinic=clinic, day=day).exists():
        return FlowDemo(0, {})
    rng = random.Random(f"frontdesk-flow-demo:{seed}:{day}")  # noqa: S311 (demo data, no secret)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    appointments = list(
        Appointment.objects.filter(
            clinic=clinic,
            start__gte=start,
            start__lte=now + dt.timedelta(minutes=30),
            status__in=(
                AppointmentStatus.ARRIVED,
                AppointmentStatus.CHECKED_IN,
                AppointmentStatus.FULFILLED,
            ),
        )
        .select_related("provider")
        .order_by("start", "pk")
    )
    counters: dict[int, int] = {}
    built: list[tuple[QueueEntry, list[QueueEvent]]] = []
    busy_rooms: dict[int, int] = {}
    for appointment in appointments:
        queue = queue_for_provider(clinic=clinic, provider=appointment.provider)
        counters[queue.pk] = counters.get(queue.pk, 0) + 1
        arrived = min(now, appointment.start - dt.timedelta(minutes=rng.randint(2, 15)))
        minutes = (appointment.end - appointment.start).total_seconds() / 60
        path: list[tuple[str, dt.datetime]] = []
        room = f"Room {rng.randint(1, 8)}"
        if appointment.status == AppointmentStatus.FULFILLED:
            called = max(arrived, appointment.start) + dt.timedelta(minutes=rng.randint(0, 8))
            done = min(now, called + dt.timedelta(minutes=minutes * rng.uniform(0.8, 1.3)))
            path = [
                (FlowStatus.CALLED, called),
                (FlowStatus.IN_ROOM, called + dt.timedelta(minutes=1)),
                (FlowStatus.WITH_PROVIDER, called + dt.timedelta(minutes=4)),
                (FlowStatus.DONE, max(done, called + dt.timedelta(minutes=5))),
            ]
        elif appointment.status == AppointmentStatus.CHECKED_IN:
            # One patient per provider is with them or in a room; the rest wait or are called.
            taken = busy_rooms.get(appointment.provider_id, 0)
            busy_rooms[appointment.provider_id] = taken + 1
            depth = 3 if taken == 0 else 2 if taken == 1 else 1 if taken == 2 else 0
            called = min(now, max(arrived, appointment.start))
            path = [
                (STEPS[i], min(now, called + dt.timedelta(minutes=(1, 2, 5)[i])))
                for i in range(depth)
            ]
        built.append(
            _entry(
                appointment=appointment,
                clinic=clinic,
                queue_id=queue.pk,
                patient_id=appointment.patient_id,
                day=day,
                number=counters[queue.pk],
                code=queue.code,
                arrived=arrived,
                path=path,
                room=room,
            )
        )
    # Someone who gave up waiting, and a walk-in emergency at the front of the walk-in queue.
    waiting = [e for e, _ in built if e.status == FlowStatus.WAITING]
    if waiting:
        gone = waiting[0]
        gone.status = FlowStatus.LEFT
        gone.status_changed_at = now - dt.timedelta(minutes=5)
        built = [
            (
                e,
                [
                    *ev,
                    QueueEvent(at=gone.status_changed_at, from_status="waiting", to_status="left"),
                ],
            )
            if e is gone
            else (e, ev)
            for e, ev in built
        ]
    nurse = (
        User.objects.filter(clinic=clinic, role=Role.NURSE, is_active=True).order_by("pk").first()
    )
    if appointments:
        walk_ins = walk_in_queue(clinic)
        counters[walk_ins.pk] = counters.get(walk_ins.pk, 0) + 1
        arrived = now - dt.timedelta(minutes=3)
        built.append(
            _entry(
                appointment=None,
                clinic=clinic,
                queue_id=walk_ins.pk,
                patient_id=appointments[-1].patient_id,
                day=day,
                number=counters[walk_ins.pk],
                code=walk_ins.code,
                arrived=arrived,
                path=[] if nurse is None else [(FlowStatus.CALLED, arrived + ACKNOWLEDGED_AFTER)],
                priority=Priority.EMERGENCY,
                reason="short of breath at the desk",
            )
        )
    for entry, events in built:
        entry.save(force_insert=True)
        for event in events:
            event.entry = entry
        QueueEvent.objects.bulk_create(events)
        if entry.priority == Priority.EMERGENCY:
            # As the desk's check-in would: the clinicians' screens alert until acknowledged.
            EmergencyAlert.objects.create(
                clinic=clinic,
                entry=entry,
                raised_at=entry.checked_in_at,
                acknowledged_at=None if nurse is None else entry.checked_in_at + ACKNOWLEDGED_AFTER,
                acknowledged_by=nurse,
            )
        if entry.appointment is not None and entry.appointment.status == AppointmentStatus.ARRIVED:
            Appointment.objects.filter(pk=entry.appointment.pk).update(
                status=AppointmentStatus.CHECKED_IN
            )
    TicketCounter.objects.bulk_create(
        [TicketCounter(queue_id=pk, day=day, last=last) for pk, last in counters.items()]
    )
    WaitingRoomDisplay.objects.get_or_create(
        clinic=clinic, name="Main waiting room", defaults={"created_at": now}
    )
    live.flow_changed(clinic.pk)
    by_status: dict[str, int] = {}
    for entry, _ in built:
        by_status[entry.status] = by_status.get(entry.status, 0) + 1
    return FlowDemo(len(built), by_status)


# The float each demo officer counts into their drawer in the morning.
DEMO_FLOAT = Decimal("150.00")
# The roles that take payments (Action.DRAWER_USE), so each has a drawer to take them into.
DRAWER_ROLES = (Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR)


def _counts_for(amount: Decimal) -> dict[str, int]:
    """Notes and coins making up `amount`, largest first (as a till is counted)."""
    counts: dict[str, int] = {}
    left = amount
    for denomination in denominations():
        number = int(left // denomination.value)
        if number:
            counts[denomination.key] = number
            left -= denomination.value * number
    return counts


def _demo_short_drawer(*, officer: User, location: Location, now: dt.datetime) -> None:
    """Yesterday's drawer of the demo's first officer, closed $10.00 short with a reason, so
    the supervisor has a variance to review on the day's drawers and the desk queue."""
    opened_at = now - dt.timedelta(days=1)
    drawer = drawer_open(
        context=SYSTEM_CONTEXT,
        user=officer,
        location=location,
        opening_float=DEMO_FLOAT,
        now=opened_at,
    )
    drawer_close(
        context=SYSTEM_CONTEXT,
        user=officer,
        drawer_id=drawer.pk,
        counts=_counts_for(DEMO_FLOAT - Decimal("10.00")),
        reason="A $10 note is missing; recounted twice",
        now=opened_at + dt.timedelta(hours=8),
    )


@transaction.atomic
def flow_demo_drawers(*, clinic: Clinic, now: dt.datetime) -> int:
    """Open today's drawer, with `DEMO_FLOAT`, for every active demo officer of `DRAWER_ROLES`
    who has none open. A drawer left open from an earlier day is first closed with the cash it
    expected, as the officer would have counted it. The first time, the first front-desk
    officer also gets yesterday's drawer, closed short (`_demo_short_drawer`). Returns how many
    drawers were opened for today."""
    location = Location.objects.filter(clinic=clinic).order_by("pk").first()
    if location is None:
        return 0
    today = now.astimezone(clinic_zone(clinic)).date()
    opened = 0
    staff = User.objects.filter(clinic=clinic, role__in=DRAWER_ROLES, is_active=True)
    first_desk = staff.filter(role=Role.FRONT_DESK).order_by("pk").first()
    if first_desk is not None and not CashDrawer.objects.filter(clinic=clinic).exists():
        _demo_short_drawer(officer=first_desk, location=location, now=now)
    for officer in staff.order_by("pk"):
        held = CashDrawer.objects.filter(officer=officer, status=DrawerStatus.OPEN).first()
        if held is not None and held.business_day == today:
            continue
        if held is not None:
            expected = drawer_totals([held])[held.pk].expected_cash
            drawer_close(
                context=SYSTEM_CONTEXT,
                user=officer,
                drawer_id=held.pk,
                counts=_counts_for(expected),
                reason="Closed by the demo at the start of the next day",
                now=now,
            )
        drawer_open(
            context=SYSTEM_CONTEXT,
            user=officer,
            location=location,
            opening_float=DEMO_FLOAT,
            now=now,
        )
        opened += 1
    return opened
