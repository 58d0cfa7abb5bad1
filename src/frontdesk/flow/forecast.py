"""Wait-time forecast per queue, from the queue ahead, the visits' booked durations and the
provider's actual pace today (observed service times), never from the schedule alone.

A patient waits for (a) the rest of the visit in progress, (b) every patient ahead of them in
the queue (priority, then arrival), each taking its booked duration times the provider's pace,
and (c) never less than until their own booked start: providers see booked patients in order.
The pace is observed minutes over booked minutes for today's finished visits, pulled towards 1
by PRIOR_MINUTES of an on-time pace, so one long visit early in the day does not double every
forecast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontdesk.flow.models import FlowStatus, Priority, QueueEntry, QueueEvent

WALK_IN_MINUTES = 15  # a walk-in without a booked type takes this long
PRIOR_MINUTES = 60.0
# Statuses that hold the provider (the visit in progress).
IN_SERVICE = (FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER)
AHEAD = (FlowStatus.WAITING, FlowStatus.CALLED)


@dataclass(frozen=True)
class QueueForecast:
    queue_id: int
    pace: float  # 1.0 = on time, 1.3 = visits take 30 % longer than booked
    waits: dict[int, int]  # entry id -> forecast minutes until seen; never for an emergency
    next_wait: int  # a patient joining now


def _booked_minutes(entry: QueueEntry) -> float:
    if entry.appointment_id is not None and entry.appointment is not None:
        return float(entry.appointment.appointment_type.duration_minutes)
    return float(WALK_IN_MINUTES)


def _service_started(events: list[QueueEvent]) -> dt.datetime | None:
    started = [e.at for e in events if e.to_status in IN_SERVICE]
    return min(started) if started else None


def forecast_queues(
    entries: list[QueueEntry], events: dict[int, list[QueueEvent]], *, now: dt.datetime
) -> dict[int, QueueForecast]:
    """Forecasts for every queue in `entries` (today's entries of one clinic, with
    appointment__appointment_type loaded) given their events by entry id."""
    by_queue: dict[int, list[QueueEntry]] = {}
    for entry in entries:
        by_queue.setdefault(entry.queue_id, []).append(entry)
    result = {}
    for queue_id, mine in by_queue.items():
        observed = booked = 0.0
        for entry in mine:
            if entry.status != FlowStatus.DONE:
                continue
            started = _service_started(events.get(entry.pk, []))
            if started is not None:
                observed += (entry.status_changed_at - started).total_seconds() / 60
                booked += _booked_minutes(entry)
        pace = (observed + PRIOR_MINUTES) / (booked + PRIOR_MINUTES)
        busy_until = now
        for entry in mine:
            if entry.status in IN_SERVICE:
                started = _service_started(events.get(entry.pk, [])) or entry.status_changed_at
                expected_end = started + dt.timedelta(minutes=_booked_minutes(entry) * pace)
                busy_until = max(busy_until, expected_end)
        ahead = sorted(
            (e for e in mine if e.status in AHEAD),
            key=lambda e: (e.status != FlowStatus.CALLED, e.priority_rank, e.checked_in_at, e.pk),
        )
        waits: dict[int, int] = {}
        moment = busy_until
        for entry in ahead:
            if entry.priority == Priority.EMERGENCY:
                # Seen now, never given a wait; the patients behind wait for that visit too.
                moment += dt.timedelta(minutes=_booked_minutes(entry) * pace)
                continue
            booked_start = entry.appointment.start if entry.appointment is not None else None
            seen_at = max(moment, booked_start) if booked_start is not None else moment
            waits[entry.pk] = _minutes(seen_at - now)
            moment = seen_at + dt.timedelta(minutes=_booked_minutes(entry) * pace)
        result[queue_id] = QueueForecast(queue_id, round(pace, 2), waits, _minutes(moment - now))
    return result


def _minutes(delta: dt.timedelta) -> int:
    return max(0, round(delta.total_seconds() / 60))


def clinic_forecasts(*, clinic_id: int, day: dt.date, now: dt.datetime) -> dict[int, QueueForecast]:
    """Today's forecasts for every queue of the clinic (two queries)."""
    entries = list(
        QueueEntry.objects.filter(clinic_id=clinic_id, day=day).select_related(
            "appointment__appointment_type"
        )
    )
    events: dict[int, list[QueueEvent]] = {}
    for event in QueueEvent.objects.filter(entry__clinic_id=clinic_id, entry__day=day):
        events.setdefault(event.entry_id, []).append(event)
    return forecast_queues(entries, events, now=now)


# What the desk and the screens say about a wait. A forecast is minutes of arithmetic, not a
# promise: nobody is told "about 0 min", and a figure is rounded so it does not sound precise.
SOON_MINUTES = 5


def wait_words(minutes: int | None) -> str:
    """A wait as it is said to a patient: "" when there is no basis for one, "under 5 min",
    else "about N min" rounded to 5 minutes (to 10 beyond an hour)."""
    if minutes is None:
        return ""
    if minutes < SOON_MINUTES:
        return f"under {SOON_MINUTES} min"
    return f"about {minutes_rounded(minutes)} min"


def minutes_rounded(minutes: int) -> int:
    step = 5 if minutes < 60 else 10
    return max(step, step * round(minutes / step))
