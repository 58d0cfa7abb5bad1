"""Late arrivals: past the appointment type's grace period, the desk sees which of the
provider's following appointments would start late, and by how much, if the patient is still
seen now; then chooses "see with delay" or "reschedule". The choice is recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.flow.display import queue_delay
from frontdesk.flow.forecast import clinic_forecasts, wait_words
from frontdesk.flow.models import LateArrival, LateChoice, Queue
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.models import Appointment, AppointmentStatus

STILL_COMING = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.PENDING,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CHECKED_IN,
)


@dataclass(frozen=True)
class Knock:
    appointment: Appointment
    delay_minutes: int


@dataclass(frozen=True)
class LateImpact:
    late_minutes: int
    grace_minutes: int
    seen_in_minutes: int  # the forecast to tell the patient if seen with delay
    knocks: list[Knock]

    @property
    def seen_in_words(self) -> str:
        return wait_words(self.seen_in_minutes)


def minutes_late(appointment: Appointment, now: dt.datetime) -> int:
    return max(0, int((now - appointment.start).total_seconds() // 60))


def is_late(appointment: Appointment, now: dt.datetime) -> bool:
    return minutes_late(appointment, now) > appointment.appointment_type.grace_minutes


def _chain(start_free: dt.datetime, visits: list[tuple[dt.datetime, float]]) -> list[dt.datetime]:
    """When each visit would start, given the provider is free at `start_free`."""
    starts = []
    free = start_free
    for booked_start, minutes in visits:
        begins = max(free, booked_start)
        starts.append(begins)
        free = begins + dt.timedelta(minutes=minutes)
    return starts


def late_impact(appointment: Appointment, *, now: dt.datetime) -> LateImpact:
    """What seeing this late patient now would do to the provider's following appointments,
    against not seeing them (both with the provider's pace today)."""
    zone = clinic_zone(appointment.clinic_id)
    day = now.astimezone(zone).date()
    forecasts = clinic_forecasts(clinic_id=appointment.clinic_id, day=day, now=now)
    queue = Queue.objects.filter(
        clinic_id=appointment.clinic_id, provider_id=appointment.provider_id
    ).first()
    forecast = forecasts.get(queue.pk) if queue is not None else None
    pace = forecast.pace if forecast is not None else 1.0
    free_at = now + dt.timedelta(minutes=forecast.next_wait if forecast is not None else 0)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    following = list(
        Appointment.objects.filter(
            provider_id=appointment.provider_id,
            start__gt=appointment.start,
            start__lt=day_end,
            status__in=STILL_COMING,
        )
        .exclude(pk=appointment.pk)
        .select_related("patient", "appointment_type")
        .order_by("start", "pk")
    )
    visits = [(a.start, a.appointment_type.duration_minutes * pace) for a in following]
    mine = appointment.appointment_type.duration_minutes * pace
    without = _chain(free_at, visits)
    with_late = _chain(free_at + dt.timedelta(minutes=mine), visits)
    knocks = [
        Knock(a, round((w - o).total_seconds() / 60))
        for a, w, o in zip(following, with_late, without, strict=True)
        if (w - o).total_seconds() >= 60
    ]
    return LateImpact(
        late_minutes=minutes_late(appointment, now),
        grace_minutes=appointment.appointment_type.grace_minutes,
        # Never less than the delay the screens show for this provider.
        seen_in_minutes=max(
            round((free_at - now).total_seconds() / 60),
            queue_delay(clinic_id=appointment.clinic_id, queue_id=queue.pk, now=now)
            if queue is not None
            else 0,
            0,
        ),
        knocks=knocks,
    )


@transaction.atomic
def late_arrival_record(
    *,
    context: AuditContext,
    user: User,
    appointment: Appointment,
    choice: LateChoice,
    impact: LateImpact,
    now: dt.datetime,
) -> LateArrival:
    record, _ = LateArrival.objects.update_or_create(
        appointment=appointment,
        defaults={
            "arrived_at": now,
            "late_minutes": impact.late_minutes,
            "choice": choice,
            "impact": [
                {
                    "appointment": k.appointment.pk,
                    "start": k.appointment.start.isoformat(),
                    "delay_minutes": k.delay_minutes,
                }
                for k in impact.knocks
            ],
            "decided_by": user,
        },
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.LATE_ARRIVAL,
        object_id=appointment.pk,
        detail={"late_minutes": impact.late_minutes, "choice": choice},
    )
    return record
