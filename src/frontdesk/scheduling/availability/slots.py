"""Free time: a schedule's sessions (its templates' rules on local days, holidays removed) and
the search for the first free start times across many schedules (`free_slots`).

The search reads its schedules and their templates in one query, then walks forward in time in
chunks that double in length (starting small, and small again after a night or a weekend),
loading each chunk's appointments and blocks for all its schedules with one query per table;
the rest is the sweep of `intervals.py`. The first chunk is sized to the number of schedules,
so "any provider" reads a few hundred rows, not a month of them. Model instances are made only
for the slots returned.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Q, prefetch_related_objects

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.availability.intervals import (
    DAY,
    Visit,
    at_seconds,
    days_between,
    local_day,
    local_seconds,
    merged,
    seconds_up,
    span_slots,
)
from frontdesk.scheduling.availability.queries import (
    Place,
    Rule,
    holds_load,
    holidays_between,
    places_for,
    visit_of,
)
from frontdesk.scheduling.models import Schedule, ScheduleTemplate

# Rows the first chunk of a search aims to read: about 2.5 appointments per provider-hour.
_FIRST_CHUNK_PROVIDER_HOURS = 240
_MORNING_ENDS = dt.time(12, 0)

TimeOfDay = Literal["morning", "afternoon"]


@dataclass(frozen=True, slots=True)
class Session:
    """One bookable stretch of a schedule on one local day: a template's occurrence."""

    schedule: Schedule
    template: ScheduleTemplate
    day: dt.date  # clinic-local date
    start: dt.datetime  # aware UTC
    end: dt.datetime  # aware UTC
    slot_minutes: int

    def slot_starts(self) -> list[dt.datetime]:
        """The session's grid: every `slot_minutes` from its start, while inside it."""
        step = dt.timedelta(minutes=self.slot_minutes)
        count = math.ceil((self.end - self.start) / step)
        return [self.start + step * k for k in range(count)]


@dataclass(frozen=True, slots=True)
class FreeSlot:
    schedule: Schedule
    provider: Provider
    location: Location
    start: dt.datetime  # aware UTC, the visit itself (buffers are not shown to patients)
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class SlotPreferences:
    """What the patient asked for; every field narrows, none widens."""

    weekdays: frozenset[int] = field(default_factory=frozenset)  # 0 Monday … 6 Sunday; empty: any
    time_of_day: TimeOfDay | None = None  # morning starts before 12:00 local, afternoon from it
    earliest: dt.time | None = None  # the visit starts at or after this local time
    latest: dt.time | None = None  # the visit starts at or before this local time

    def accepts_day(self, day: dt.date) -> bool:
        return not self.weekdays or day.weekday() in self.weekdays

    @property
    def constrains_time(self) -> bool:
        return self.time_of_day is not None or self.earliest is not None or self.latest is not None

    def accepts_time(self, local: dt.time) -> bool:
        if self.time_of_day == "morning" and local >= _MORNING_ENDS:
            return False
        if self.time_of_day == "afternoon" and local < _MORNING_ENDS:
            return False
        if self.earliest is not None and local < self.earliest:
            return False
        return self.latest is None or local <= self.latest


def template_sessions(*, schedule: Schedule, day_from: dt.date, day_to: dt.date) -> list[Session]:
    """The schedule's bookable sessions on the local days `day_from`..`day_to` (inclusive),
    holidays removed, ordered by start. Two queries: templates and holidays."""
    zone = clinic_zone(schedule.clinic_id)
    templates = ScheduleTemplate.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day_from),
        schedule=schedule,
        valid_from__lte=day_to,
    ).order_by("start_time", "pk")
    holidays = holidays_between([schedule.clinic_id], day_from, day_to)
    sessions = [
        Session(
            schedule,
            template,
            day,
            at_seconds(local_seconds(day, template.start_time, zone.key)),
            at_seconds(local_seconds(day, template.end_time, zone.key)),
            template.slot_minutes,
        )
        for day in days_between(day_from, day_to)
        if (schedule.clinic_id, day) not in holidays
        for template in templates
        if Rule.of(template).runs_on(day, zone.key)
    ]
    sessions.sort(key=lambda s: (s.start, s.end, s.template.pk))
    return sessions


@dataclass(frozen=True, slots=True)
class _Span:
    """A session in whole UTC seconds."""

    place: Place
    day: dt.date
    start: int
    end: int
    step: int


class _Calendar:
    """Sessions of many schedules, day by day, computed on first use."""

    def __init__(
        self,
        places: Sequence[Place],
        rules: dict[int, list[Rule]],
        day_from: dt.date,
        day_to: dt.date,
        zone: zoneinfo.ZoneInfo,
        preferences: SlotPreferences,
    ) -> None:
        self.places = places
        self.zone_key = zone.key
        self.preferences = preferences
        self.day_from, self.day_to = day_from, day_to
        self.rules = rules
        self.holidays = holidays_between({p.clinic_id for p in places}, day_from, day_to)
        self._by_day: dict[dt.date, list[_Span]] = {}

    def sessions_on(self, day: dt.date) -> list[_Span]:
        found = self._by_day.get(day)
        if found is None:
            found = []
            if self.day_from <= day <= self.day_to and self.preferences.accepts_day(day):
                key = self.zone_key
                for place in self.places:
                    if (place.clinic_id, day) in self.holidays:
                        continue
                    for rule in self.rules.get(place.schedule_id, ()):
                        if rule.runs_on(day, key):
                            found.append(
                                _Span(
                                    place,
                                    day,
                                    local_seconds(day, rule.start_time, key),
                                    local_seconds(day, rule.end_time, key),
                                    rule.slot_minutes * 60,
                                )
                            )
            self._by_day[day] = found
        return found


def free_slots(
    *,
    appointment_type: AppointmentType,
    schedules: Iterable[Schedule],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    preferences: SlotPreferences | None = None,
    limit: int = 10,
) -> list[FreeSlot]:
    """The first `limit` bookable start times for the type in [start, end), across the
    schedules whose provider may see it, ordered by time and then provider's name.

    `schedules`: one schedule in a list, several, or a queryset (e.g. every active schedule of
    the clinic for "any provider"; a queryset is cheaper than instances for many schedules).
    A slot is on its session's grid, its visit plus buffers lies inside the session, it touches
    no active non-overbooked appointment of the provider, no leave or ad-hoc block and no
    reserved block held for other types (until released), the provider has not reached the
    type's daily limit that day, it is not before `now`, and it matches `preferences`.
    """
    if start.tzinfo is None or end.tzinfo is None or now.tzinfo is None:
        raise ValueError("free_slots needs aware datetimes")
    prefs = preferences or SlotPreferences()
    lo, hi = max(seconds_up(start), seconds_up(now)), seconds_up(end)
    if limit <= 0 or lo >= hi:
        return []
    zone = clinic_zone(appointment_type.clinic_id)
    day_from, day_to = local_day(lo, zone), local_day(hi - 1, zone)
    places, rules, instances = places_for(appointment_type, schedules, day_from, day_to)
    if not places:
        return []
    visit = visit_of(appointment_type)
    calendar = _Calendar(places, rules, day_from, day_to, zone, prefs)
    now_day = now.astimezone(zone).date()

    found: list[tuple[int, tuple[str, str, int, int], int]] = []
    cursor = lo
    first_span = max(3600, min(7 * DAY, _FIRST_CHUNK_PROVIDER_HOURS * 3600 // len(places)))
    span = first_span
    while cursor < hi and len(found) < limit:
        chunk_end = min(hi, cursor + span)
        sessions = [
            session
            for day in days_between(local_day(cursor, zone), local_day(chunk_end - 1, zone))
            for session in calendar.sessions_on(day)
            if session.start < chunk_end and session.end > cursor
        ]
        if not sessions:
            # Nights and weekends: jump to the next session and start small again, since the
            # first hour of a morning usually has what is wanted.
            cursor, span = _next_session_start(calendar, chunk_end, hi, zone), first_span
            continue
        chunk = _chunk_slots(
            sessions,
            visit=visit,
            lo=cursor,
            hi=chunk_end,
            now_day=now_day,
            zone=zone,
            preferences=prefs,
            want=limit - len(found),
        )
        found.extend(sorted((t, place.rank, place.schedule_id) for t, place in chunk))
        cursor = chunk_end
        span *= 2

    found = found[:limit]
    missing = {pk for _, _, pk in found} - instances.keys()
    if missing:
        instances.update(
            Schedule.objects.select_related("provider", "location").in_bulk(list(missing))
        )
    prefetch_related_objects([instances[pk] for _, _, pk in found], "provider", "location")
    duration = dt.timedelta(seconds=visit.duration)
    return [
        FreeSlot(
            instances[pk],
            instances[pk].provider,
            instances[pk].location,
            at_seconds(t),
            at_seconds(t) + duration,
        )
        for t, _, pk in found
    ]


def _next_session_start(calendar: _Calendar, after: int, hi: int, zone: zoneinfo.ZoneInfo) -> int:
    """Where the next session begins at or after `after` (or `hi` if none does before it)."""
    day = local_day(after, zone)
    last = local_day(hi - 1, zone)
    while day <= last:
        starts = [max(after, s.start) for s in calendar.sessions_on(day) if s.end > after]
        if starts:
            return min(starts)
        day += dt.timedelta(days=1)
    return hi


def _time_filter(
    preferences: SlotPreferences, zone: zoneinfo.ZoneInfo
) -> Callable[[int], bool] | None:
    """The preferences' test of a start's local time; None when they ask nothing of it."""
    if not preferences.constrains_time:
        return None
    return lambda t: preferences.accepts_time(dt.datetime.fromtimestamp(t, zone).time())


def _chunk_slots(
    sessions: Sequence[_Span],
    *,
    visit: Visit,
    lo: int,
    hi: int,
    now_day: dt.date,
    zone: zoneinfo.ZoneInfo,
    preferences: SlotPreferences,
    want: int,
) -> set[tuple[int, Place]]:
    places = {s.place.schedule_id: s.place for s in sessions}
    loaded = holds_load(
        places=[(p.schedule_id, p.provider_id) for p in places.values()],
        visit=visit,
        lo=lo - visit.before,
        hi=hi + visit.duration + visit.after,
        days=(min(s.day for s in sessions), max(s.day for s in sessions)),
        now_day=now_day,
        zone_key=zone.key,
        ignore_appointment_id=None,
    )
    free = {pk: merged(holds) for pk, holds in loaded.holds.items()}
    accepts = _time_filter(preferences, zone)
    # Each session offers at most its first `want` starts: fewer could never make the cut, and
    # sessions of one schedule may overlap (two templates), so none is skipped for another.
    found: set[tuple[int, Place]] = set()
    limit = visit.daily_limit
    for session in sessions:
        place = session.place
        if (
            limit is not None
            and loaded.day_counts.get((place.provider_id, session.day), 0) >= limit
        ):
            continue
        starts, ends = free[place.schedule_id]
        times = span_slots(
            session.start,
            session.end,
            session.step,
            visit=visit,
            lo=lo,
            hi=hi,
            starts=starts,
            ends=ends,
            accepts=accepts,
            want=want,
        )
        found.update((t, place) for t in times)
    return found
