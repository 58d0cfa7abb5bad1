"""Availability: free time is computed, never stored (Medplum's model).

A schedule's bookable time is its templates' sessions (RFC 5545 rules in clinic local time)
minus clinic holidays; from that, busy time (active, non-overbooked appointments with their
buffers), leave and ad-hoc blocks, unreleased reserved blocks and the type's daily limit are
taken away. Everything here only reads.

Speed: a search reads its schedules and their templates in one query, then walks forward in
time in chunks that double in length (starting small, and small again after a night or a
weekend), loading each chunk's appointments and blocks for all its schedules with one query per
table; the rest is a sweep over sorted intervals in integer UTC seconds that jumps past each
busy stretch. The first chunk is sized to the number of schedules, so "any provider" reads a few
hundred rows, not a month of them. Model instances are made only for the slots returned. Rule
expansion is memoised per (rule, month): dateutil walks a rule from its DTSTART, which for a
template valid since years ago costs milliseconds per call. bench/next_slot.py measures it.

`free_slots` and `slot_is_bookable` share the same interval list, so a slot the search offers
is one the booking check accepts. Leave is the provider's, whichever schedule it was entered
on (a provider on holiday is away from every location); ad-hoc and reserved blocks belong to
their schedule. Double bookings are per provider, as the database constraint is.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Field, Model, Q, QuerySet, prefetch_related_objects

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.rrule import rule_days_in_month
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)

# `clinic_zone` lives in lib/clinic_time.py; waitlist.py and services.py, reworked on their
# own, still name it here.
__all__ = [
    "FreeSlot",
    "Session",
    "SlotPreferences",
    "clinic_zone",
    "free_slots",
    "provider_label",
    "slot_is_bookable",
    "template_sessions",
]

UTC = dt.UTC
DAY = 86_400
# An appointment's busy interval is at most 12 hours (a visit is at most 8, by the type's check
# constraint, plus its buffers): this lower bound lets the (provider, busy_start) index serve
# the overlap query. Should one ever be longer, the database's no-double-booking constraint
# still refuses the clash when the booking is inserted.
_LONGEST_BUSY = dt.timedelta(hours=12)
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


# --- SQL --------------------------------------------------------------------------------------
# The queries of a search are written out: building and compiling one through the ORM took about
# twice as long as running it (measured: 1.6 ms against 0.9 ms), and they are the hot path of
# every "next free time" screen. Names come from the models' _meta; every value is a parameter.
# Datetimes come back as epoch seconds computed by the database, times and dates as text parsed
# through a small cache: no converter runs per row in Python.


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _col(model: type[Model], field: str, alias: str) -> str:
    return _quoted_column(connection.vendor, model, field, alias)


@functools.lru_cache(maxsize=256)
def _quoted_column(vendor: str, model: type[Model], field: str, alias: str) -> str:
    found = model._meta.get_field(field)
    if not isinstance(found, Field) or found.column is None:
        raise TypeError(f"{model.__name__}.{field} is not a column")
    return f"{alias}.{_q(found.column)}"


def _epoch(column: str) -> str:
    if connection.vendor == "sqlite":
        # Django stores UTC text; julianday() reads it on every SQLite version Django supports.
        # Times here are whole seconds (grid times, minute buffers), so rounding is exact.
        return f"CAST(ROUND((julianday({column}) - 2440587.5) * 86400) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


def _in(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column IN (...)`; on PostgreSQL one array parameter, so that 200 ids are one value to
    send and the statement's text does not change with their number."""
    if not values:
        return "1 = 0", []
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


@functools.lru_cache(maxsize=4096)
def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


@functools.lru_cache(maxsize=4096)
def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _text(column: str) -> str:
    # Times and dates as text: SQLite's converters would otherwise parse each in Python.
    return f"CAST({column} AS {'TEXT' if connection.vendor == 'sqlite' else 'VARCHAR'})"


def _param(when: dt.datetime) -> object:
    return connection.ops.adapt_datetimefield_value(when)


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# --- Rule expansion ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    """A template's columns that expansion needs (plain values, no model instance)."""

    pk: int
    schedule_id: int
    rrule: str
    start_time: dt.time
    end_time: dt.time
    valid_from: dt.date
    valid_until: dt.date | None
    slot_minutes: int

    @classmethod
    def of(cls, t: ScheduleTemplate) -> _Rule:
        return cls(
            t.pk,
            t.schedule_id,
            t.rrule,
            t.start_time,
            t.end_time,
            t.valid_from,
            t.valid_until,
            t.slot_minutes,
        )

    def runs_on(self, day: dt.date, zone_key: str) -> bool:
        if day < self.valid_from or (self.valid_until is not None and day > self.valid_until):
            return False
        return day in rule_days_in_month(
            self.rrule, self.valid_from, self.start_time, zone_key, day.year, day.month
        )


_RULE_COLUMNS = (
    "pk",
    "schedule_id",
    "rrule",
    "start_time",
    "end_time",
    "valid_from",
    "valid_until",
    "slot_minutes",
)


@functools.lru_cache(maxsize=65_536)
def _local_seconds(day: dt.date, time: dt.time, zone_key: str) -> int:
    # Local wall time built with zoneinfo, then converted: a 09:00 session is 09:00 local on
    # both sides of a daylight-saving change (14:00 UTC in winter, 13:00 UTC in summer).
    return math.floor(
        dt.datetime.combine(day, time, tzinfo=zoneinfo.ZoneInfo(zone_key)).timestamp()
    )


def _days(day_from: dt.date, day_to: dt.date) -> list[dt.date]:
    return [day_from + dt.timedelta(days=n) for n in range((day_to - day_from).days + 1)]


def _rules_by_schedule(
    schedule_ids: Iterable[int], day_from: dt.date, day_to: dt.date
) -> dict[int, list[_Rule]]:
    found: dict[int, list[_Rule]] = defaultdict(list)
    rows = (
        ScheduleTemplate.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day_from),
            schedule_id__in=list(schedule_ids),
            valid_from__lte=day_to,
        )
        .order_by("start_time", "pk")
        .values_list(*_RULE_COLUMNS)
    )
    for row in rows:
        rule = _Rule(*row)
        found[rule.schedule_id].append(rule)
    return found


def _holidays(
    clinic_ids: Iterable[int], day_from: dt.date, day_to: dt.date
) -> dict[tuple[int, dt.date], str]:
    h = ClinicHoliday
    clinic, day = _col(h, "clinic", "h"), _col(h, "date", "h")
    clinics, params = _in(clinic, sorted(set(clinic_ids)))
    # Names from _meta, every value a parameter:
    sql = (
        f"SELECT {clinic}, {_text(day)}, {_col(h, 'name', 'h')}"  # noqa: S608
        f" FROM {_q(h._meta.db_table)} h WHERE {clinics} AND {day} >= %s AND {day} <= %s"
    )
    params += [
        connection.ops.adapt_datefield_value(day_from),
        connection.ops.adapt_datefield_value(day_to),
    ]
    return {(clinic_id, _date(text)): name for clinic_id, text, name in _rows(sql, params)}


def template_sessions(*, schedule: Schedule, day_from: dt.date, day_to: dt.date) -> list[Session]:
    """The schedule's bookable sessions on the local days `day_from`..`day_to` (inclusive),
    holidays removed, ordered by start. Two queries: templates and holidays."""
    zone = clinic_zone()
    templates = ScheduleTemplate.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day_from),
        schedule=schedule,
        valid_from__lte=day_to,
    ).order_by("start_time", "pk")
    holidays = _holidays([schedule.clinic_id], day_from, day_to)
    sessions = [
        Session(
            schedule,
            template,
            day,
            _at(_local_seconds(day, template.start_time, zone.key)),
            _at(_local_seconds(day, template.end_time, zone.key)),
            template.slot_minutes,
        )
        for day in _days(day_from, day_to)
        if (schedule.clinic_id, day) not in holidays
        for template in templates
        if _Rule.of(template).runs_on(day, zone.key)
    ]
    sessions.sort(key=lambda s: (s.start, s.end, s.template.pk))
    return sessions


# --- Busy and blocked time ------------------------------------------------------------------


def _seconds(when: dt.datetime) -> int:
    return math.floor(when.timestamp())


def _seconds_up(when: dt.datetime) -> int:
    return math.ceil(when.timestamp())


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def _appointment_rows(
    *,
    provider_ids: Sequence[int],
    lo: dt.datetime,
    hi: dt.datetime,
    daily: tuple[int, dt.datetime, dt.datetime] | None,
    ignore_appointment_id: int | None,
) -> list[tuple[Any, ...]]:
    """(provider, busy start, busy end, overbook?, type, start) of the providers' active
    appointments whose busy time overlaps [lo, hi), and with `daily` = (type, from, to) also
    those of that type starting in [from, to)."""
    a = Appointment

    def c(field: str) -> str:
        return _col(a, field, "a")

    statuses = [str(status) for status in ACTIVE_STATUSES]
    # Both kinds of row lie in one busy_start range, kept outside the OR so that the
    # (provider, busy_start) index serves the query.
    scan_from, scan_to = lo - _LONGEST_BUSY, hi
    wanted = f"({c('busy_start')} < %s AND {c('busy_end')} > %s AND {c('is_overbook')} = %s)"
    wanted_params: list[object] = [_param(hi), _param(lo), False]
    if daily is not None:
        type_id, day_from, day_to = daily
        wanted += f" OR ({c('appointment_type')} = %s AND {c('start')} >= %s AND {c('start')} < %s)"
        wanted_params += [type_id, _param(day_from), _param(day_to)]
        scan_from, scan_to = min(scan_from, day_from - _LONGEST_BUSY), max(scan_to, day_to)
    providers, provider_params = _in(c("provider"), provider_ids)
    active, status_params = _in(c("status"), statuses)
    # Names from _meta, every value a parameter:
    sql = (
        f"SELECT {c('provider')}, {_epoch(c('busy_start'))}, {_epoch(c('busy_end'))},"  # noqa: S608
        f" {c('is_overbook')}, {c('appointment_type')}, {_epoch(c('start'))}"
        f" FROM {_q(a._meta.db_table)} a"
        f" WHERE {providers} AND {active}"
        f" AND {c('busy_start')} >= %s AND {c('busy_start')} < %s"
        f" AND ({wanted})"
    )
    params = [
        *provider_params,
        *status_params,
        _param(scan_from),
        _param(scan_to),
        *wanted_params,
    ]
    if ignore_appointment_id is not None:
        sql += f" AND {c('id')} <> %s"
        params.append(ignore_appointment_id)
    return _rows(sql, params)


def _block_rows(
    *, schedule_ids: Sequence[int], provider_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime
) -> list[tuple[Any, ...]]:
    """(block, schedule, provider, kind, start, end, release days, reason, held type, its
    name) of blocks overlapping [lo, hi) on these schedules, and the providers' leave entered
    on any schedule; one row per type a reserved block is held for."""
    held = Block._meta.get_field("appointment_types")
    through = _q(held.m2m_db_table())

    def b(field: str) -> str:
        return _col(Block, field, "b")

    provider = _col(Schedule, "provider", "s")
    on_schedules, schedule_params = _in(b("schedule"), schedule_ids)
    of_providers, provider_params = _in(provider, provider_ids)
    # Names from _meta, every value a parameter:
    sql = (
        f"SELECT {b('id')}, {b('schedule')}, {provider}, {b('kind')},"  # noqa: S608
        f" {_epoch(b('start'))}, {_epoch(b('end'))}, {b('release_days_before')}, {b('reason')},"
        f" t.{_q('id')}, t.{_q('name')}"
        f" FROM {_q(Block._meta.db_table)} b"
        f" JOIN {_q(Schedule._meta.db_table)} s ON s.{_q('id')} = {b('schedule')}"
        f" LEFT JOIN {through} bt"
        f" ON bt.{_q(held.m2m_column_name())} = {b('id')}"
        f" LEFT JOIN {_q(AppointmentType._meta.db_table)} t"
        f" ON t.{_q('id')} = bt.{_q(held.m2m_reverse_name())}"
        f" WHERE ({on_schedules} OR ({b('kind')} = %s AND {of_providers}))"
        f" AND {b('start')} < %s AND {b('end')} > %s"
    )
    params = [*schedule_params, str(BlockKind.LEAVE), *provider_params, _param(hi), _param(lo)]
    return _rows(sql, params)


@dataclass(frozen=True, slots=True)
class _Hold:
    """Time a slot's busy interval may not touch, and why (for the officer)."""

    start: int
    end: int
    kind: str  # "appointment", "leave", "adhoc" or "reserved"
    reason: str = ""  # a block's reason
    held_for: tuple[str, ...] = ()  # reserved: the types it is held for
    release_days: int | None = None  # reserved: opens this many days ahead


@dataclass(slots=True)
class _Loaded:
    holds: dict[int, list[_Hold]]  # per schedule id, sorted
    day_counts: dict[tuple[int, dt.date], int]  # (provider id, local date) -> this type booked


@dataclass(frozen=True, slots=True)
class _Visit:
    type_id: int
    duration: int  # seconds
    before: int
    after: int
    daily_limit: int | None

    @classmethod
    def of(cls, appointment_type: AppointmentType) -> _Visit:
        return cls(
            appointment_type.pk,
            appointment_type.duration_minutes * 60,
            appointment_type.buffer_before_minutes * 60,
            appointment_type.buffer_after_minutes * 60,
            appointment_type.daily_limit,
        )


def _load(
    *,
    places: Sequence[tuple[int, int]],
    visit: _Visit,
    lo: int,
    hi: int,
    days: tuple[dt.date, dt.date] | None,
    now_day: dt.date,
    zone_key: str,
    ignore_appointment_id: int | None,
) -> _Loaded:
    """Holds overlapping [lo, hi) for these (schedule id, provider id) places, and this type's
    bookings per provider and local day over `days` (inclusive) when the type has a daily
    limit: one query on appointments and one on blocks, whatever the number of places."""
    schedule_ids = [schedule_id for schedule_id, _ in places]
    provider_ids = sorted({provider_id for _, provider_id in places})
    midnights: list[int] = []
    day_list: list[dt.date] = []
    daily = None
    if days is not None and visit.daily_limit is not None:
        day_list = _days(days[0], days[1])
        midnights = [_local_seconds(day, dt.time(0), zone_key) for day in day_list]
        midnights.append(_local_seconds(days[1] + dt.timedelta(days=1), dt.time(0), zone_key))
        daily = (visit.type_id, _at(midnights[0]), _at(midnights[-1]))

    by_provider: dict[int, list[_Hold]] = defaultdict(list)
    day_counts: dict[tuple[int, dt.date], int] = defaultdict(int)
    rows = _appointment_rows(
        provider_ids=provider_ids,
        lo=_at(lo),
        hi=_at(hi),
        daily=daily,
        ignore_appointment_id=ignore_appointment_id,
    )
    for provider_id, b_start, b_end, is_overbook, type_id, start in rows:
        if not is_overbook and b_start < hi and b_end > lo:
            by_provider[provider_id].append(_Hold(b_start, b_end, "appointment"))
        if type_id == visit.type_id and midnights and midnights[0] <= start < midnights[-1]:
            day_counts[provider_id, day_list[bisect.bisect_right(midnights, start) - 1]] += 1

    blocks = _block_rows(
        schedule_ids=schedule_ids, provider_ids=provider_ids, lo=_at(lo), hi=_at(hi)
    )
    by_block: dict[int, tuple[int, int, str, int, int, int | None, str]] = {}
    held_types: dict[int, dict[int, str]] = defaultdict(dict)
    # One row per (block, type it is held for): the block itself once, its types gathered.
    for pk, schedule_id, provider_id, kind, start, end, release, reason, type_id, name in blocks:
        by_block[pk] = (schedule_id, provider_id, kind, start, end, release, reason)
        if type_id is not None:
            held_types[pk][type_id] = name

    by_schedule: dict[int, list[_Hold]] = defaultdict(list)
    for pk, (schedule_id, provider_id, kind, start, end, release, reason) in by_block.items():
        if kind == BlockKind.LEAVE:
            by_provider[provider_id].append(_Hold(start, end, "leave", reason))
        elif kind == BlockKind.ADHOC:
            by_schedule[schedule_id].append(_Hold(start, end, "adhoc", reason))
        elif kind == BlockKind.RESERVED and visit.type_id not in held_types[pk]:
            # Held for other types: opens to every type `release` days ahead, i.e. for slots on
            # local dates up to today + release. Only the part after that stays held.
            held_from = start
            if release is not None:
                opens_until = now_day + dt.timedelta(days=release + 1)
                held_from = max(start, _local_seconds(opens_until, dt.time(0), zone_key))
            if held_from < end:
                names = tuple(sorted(held_types[pk].values()))
                by_schedule[schedule_id].append(
                    _Hold(held_from, end, "reserved", reason, names, release)
                )

    holds = {
        schedule_id: sorted(
            by_provider.get(provider_id, []) + by_schedule.get(schedule_id, []),
            key=lambda h: (h.start, h.end),
        )
        for schedule_id, provider_id in places
    }
    return _Loaded(holds, day_counts)


def _merged(holds: Sequence[_Hold]) -> tuple[list[int], list[int]]:
    """Sorted holds as disjoint intervals: parallel lists of starts and ends."""
    starts: list[int] = []
    ends: list[int] = []
    for hold in holds:
        if ends and hold.start <= ends[-1]:
            ends[-1] = max(ends[-1], hold.end)
        else:
            starts.append(hold.start)
            ends.append(hold.end)
    return starts, ends


# --- Free slots -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Place:
    """A schedule as the search needs it; model instances are made for the results only."""

    schedule_id: int
    provider_id: int
    clinic_id: int
    rank: tuple[str, str, int, int]  # results at one time: by provider name


@dataclass(frozen=True, slots=True)
class _Span:
    """A session in whole UTC seconds."""

    place: _Place
    day: dt.date
    start: int
    end: int
    step: int


def _places(
    appointment_type: AppointmentType,
    schedules: Iterable[Schedule],
    day_from: dt.date,
    day_to: dt.date,
) -> tuple[list[_Place], dict[int, list[_Rule]], dict[int, Schedule]]:
    """The schedules whose provider may see the type, with their templates valid in the days,
    as plain rows (one query); and the instances, when the caller passed instances. Schedules
    without such a template are left out: they have no time to offer."""
    instances: dict[int, Schedule] = {}
    if isinstance(schedules, QuerySet):
        try:
            inner, inner_params = schedules.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # .none(), pk__in=[]: nothing to search
            return [], {}, {}
        params: list[Any] = list(inner_params)
    else:
        instances = {s.pk: s for s in schedules}
        inner, params = "", []
    t, sc, pr = ScheduleTemplate, Schedule, Provider
    allowed = AppointmentType._meta.get_field("allowed_providers")
    through = _q(allowed.m2m_db_table())
    type_column = _q(allowed.m2m_column_name())
    provider_column = _q(allowed.m2m_reverse_name())

    def c(model: type[Model], field: str, alias: str, *, text: bool = False) -> str:
        column = _col(model, field, alias)
        return _text(column) if text else column

    if inner:
        chosen = f"{c(t, 'schedule', 't')} IN ({inner})"
    else:
        chosen, params = _in(c(t, "schedule", "t"), list(instances))

    # Names from _meta, every value a parameter:
    sql = (
        f"SELECT {c(t, 'id', 't')}, {c(t, 'schedule', 't')}, {c(t, 'rrule', 't')},"  # noqa: S608
        f" {c(t, 'start_time', 't', text=True)}, {c(t, 'end_time', 't', text=True)},"
        f" {c(t, 'valid_from', 't', text=True)}, {c(t, 'valid_until', 't', text=True)},"
        f" {c(t, 'slot_minutes', 't')}, {c(sc, 'provider', 's')}, {c(sc, 'clinic', 's')},"
        f" {c(pr, 'family_name', 'p')}, {c(pr, 'given_name', 'p')}"
        f" FROM {_q(t._meta.db_table)} t"
        f" JOIN {_q(sc._meta.db_table)} s ON {c(sc, 'id', 's')} = {c(t, 'schedule', 't')}"
        f" JOIN {_q(pr._meta.db_table)} p ON {c(pr, 'id', 'p')} = {c(sc, 'provider', 's')}"
        f" WHERE {chosen}"
        f" AND {c(sc, 'is_active', 's')} = %s AND {c(pr, 'is_active', 'p')} = %s"
        f" AND {c(sc, 'clinic', 's')} = %s"
        # No allowed providers listed means every provider may see the type.
        f" AND (NOT EXISTS (SELECT 1 FROM {through} x WHERE x.{type_column} = %s)"
        f" OR {c(sc, 'provider', 's')} IN"
        f" (SELECT x.{provider_column} FROM {through} x WHERE x.{type_column} = %s))"
        f" AND {c(t, 'valid_from', 't')} <= %s"
        f" AND ({c(t, 'valid_until', 't')} IS NULL OR {c(t, 'valid_until', 't')} >= %s)"
        f" ORDER BY {c(t, 'start_time', 't')}, {c(t, 'id', 't')}"
    )
    params += [True, True, appointment_type.clinic_id, appointment_type.pk, appointment_type.pk]
    params += [
        connection.ops.adapt_datefield_value(day_to),
        connection.ops.adapt_datefield_value(day_from),
    ]
    places: dict[int, _Place] = {}
    rules: dict[int, list[_Rule]] = defaultdict(list)
    for row in _rows(sql, params):
        pk, schedule_id, rrule, start, end, valid_from, valid_until, minutes = row[:8]
        provider_id, clinic_id, family, given = row[8:]
        rule = _Rule(
            pk,
            schedule_id,
            rrule,
            _time(start),
            _time(end),
            _date(valid_from),
            _date(valid_until) if valid_until is not None else None,
            minutes,
        )
        rules[schedule_id].append(rule)
        if schedule_id not in places:
            rank = (family, given, provider_id, schedule_id)
            places[schedule_id] = _Place(schedule_id, provider_id, clinic_id, rank)
    return list(places.values()), rules, instances


class _Calendar:
    """Sessions of many schedules, day by day, computed on first use."""

    def __init__(
        self,
        places: Sequence[_Place],
        rules: dict[int, list[_Rule]],
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
        self.holidays = _holidays({p.clinic_id for p in places}, day_from, day_to)
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
                                    _local_seconds(day, rule.start_time, key),
                                    _local_seconds(day, rule.end_time, key),
                                    rule.slot_minutes * 60,
                                )
                            )
            self._by_day[day] = found
        return found


def _first_on_grid(origin: int, step: int, at_least: int) -> int:
    if at_least <= origin:
        return origin
    return origin + -(-(at_least - origin) // step) * step


def _span_slots(
    span: _Span,
    *,
    visit: _Visit,
    lo: int,
    hi: int,
    starts: list[int],
    ends: list[int],
    preferences: SlotPreferences,
    zone: zoneinfo.ZoneInfo,
    want: int,
) -> list[int]:
    """Up to `want` grid starts in [lo, hi) whose busy interval fits the session and touches no
    hold: a sweep that jumps past each hold instead of stepping through it."""
    origin, step = span.start, span.step
    last = min(hi - 1, span.end - visit.duration - visit.after)
    t = _first_on_grid(origin, step, max(lo, origin + visit.before))
    i = bisect.bisect_right(ends, t - visit.before)
    found: list[int] = []
    check_time = preferences.constrains_time
    while t <= last and len(found) < want:
        busy_from, busy_to = t - visit.before, t + visit.duration + visit.after
        while i < len(ends) and ends[i] <= busy_from:
            i += 1
        if i < len(ends) and starts[i] < busy_to:
            t = _first_on_grid(origin, step, ends[i] + visit.before)
            continue
        if not check_time or preferences.accepts_time(dt.datetime.fromtimestamp(t, zone).time()):
            found.append(t)
        t += step
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
    lo, hi = max(_seconds_up(start), _seconds_up(now)), _seconds_up(end)
    if limit <= 0 or lo >= hi:
        return []
    zone = clinic_zone()
    day_from, day_to = _local_day(lo, zone), _local_day(hi - 1, zone)
    places, rules, instances = _places(appointment_type, schedules, day_from, day_to)
    if not places:
        return []
    visit = _Visit.of(appointment_type)
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
            for day in _days(_local_day(cursor, zone), _local_day(chunk_end - 1, zone))
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
            _at(t),
            _at(t) + duration,
        )
        for t, _, pk in found
    ]


def _local_day(seconds: int, zone: zoneinfo.ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, zone).date()


def _next_session_start(calendar: _Calendar, after: int, hi: int, zone: zoneinfo.ZoneInfo) -> int:
    """Where the next session begins at or after `after` (or `hi` if none does before it)."""
    day = _local_day(after, zone)
    last = _local_day(hi - 1, zone)
    while day <= last:
        starts = [max(after, s.start) for s in calendar.sessions_on(day) if s.end > after]
        if starts:
            return min(starts)
        day += dt.timedelta(days=1)
    return hi


def _chunk_slots(
    sessions: Sequence[_Span],
    *,
    visit: _Visit,
    lo: int,
    hi: int,
    now_day: dt.date,
    zone: zoneinfo.ZoneInfo,
    preferences: SlotPreferences,
    want: int,
) -> set[tuple[int, _Place]]:
    places = {s.place.schedule_id: s.place for s in sessions}
    loaded = _load(
        places=[(p.schedule_id, p.provider_id) for p in places.values()],
        visit=visit,
        lo=lo - visit.before,
        hi=hi + visit.duration + visit.after,
        days=(min(s.day for s in sessions), max(s.day for s in sessions)),
        now_day=now_day,
        zone_key=zone.key,
        ignore_appointment_id=None,
    )
    merged = {pk: _merged(holds) for pk, holds in loaded.holds.items()}
    # Each session offers at most its first `want` starts: fewer could never make the cut, and
    # sessions of one schedule may overlap (two templates), so none is skipped for another.
    found: set[tuple[int, _Place]] = set()
    limit = visit.daily_limit
    for session in sessions:
        place = session.place
        if (
            limit is not None
            and loaded.day_counts.get((place.provider_id, session.day), 0) >= limit
        ):
            continue
        starts, ends = merged[place.schedule_id]
        times = _span_slots(
            session,
            visit=visit,
            lo=lo,
            hi=hi,
            starts=starts,
            ends=ends,
            preferences=preferences,
            zone=zone,
            want=want,
        )
        found.update((t, place) for t in times)
    return found


# --- One slot, in words -------------------------------------------------------------------------

_DOCTORAL = frozenset({"MD", "DO", "DDS", "DMD", "DPM", "DC", "OD", "PHD", "PSYD", "DPT"})


def provider_label(provider: Provider) -> str:
    """How the front desk names a provider: Dr Lee, or Nina Park for a nurse practitioner."""
    titles = {part.strip().replace(".", "").upper() for part in provider.credentials.split(",")}
    if titles & _DOCTORAL:
        return f"Dr {provider.family_name}"
    return f"{provider.given_name} {provider.family_name}"


def _plural(name: str, count: int = 2) -> str:
    return name if count == 1 or name.endswith("s") else f"{name}s"


def _short_date(day: dt.date, today: dt.date) -> str:
    text = f"{day:%b} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def _hh_mm(seconds: int, zone: zoneinfo.ZoneInfo) -> str:
    return f"{dt.datetime.fromtimestamp(seconds, zone):%H:%M}"


def slot_is_bookable(
    *,
    appointment_type: AppointmentType,
    schedule: Schedule,
    start: dt.datetime,
    now: dt.datetime,
    ignore_appointment_id: int | None = None,
) -> str | None:
    """None when a visit of this type may start at `start` on this schedule, else why not, in
    words for the officer. The same rules as `free_slots`. Reads only: the booking service
    calls it inside its transaction, before the insert (`ignore_appointment_id`: the
    appointment being moved, which must not stand in its own way)."""
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("slot_is_bookable needs aware datetimes")
    if start < now:
        return "That time is in the past"
    provider, location = schedule.provider, schedule.location
    who = provider_label(provider)
    type_name = appointment_type.name
    if schedule.clinic_id != appointment_type.clinic_id:
        return f"{type_name} is not offered by {who}'s clinic"
    if not (schedule.is_active and provider.is_active):
        return f"{who} does not take bookings at {location}"
    allowed = set(appointment_type.allowed_providers.values_list("pk", flat=True))
    if allowed and provider.pk not in allowed:
        return f"{who} does not see {_plural(type_name)}"

    zone = clinic_zone()
    local = start.astimezone(zone)
    day = local.date()
    holiday = _holidays([schedule.clinic_id], day, day).get((schedule.clinic_id, day))
    if holiday is not None:
        return f"The clinic is closed for {holiday}"

    visit = _Visit.of(appointment_type)
    t = _seconds(start)
    rules = _rules_by_schedule([schedule.pk], day, day).get(schedule.pk, [])
    sessions = [
        (_local_seconds(day, r.start_time, zone.key), _local_seconds(day, r.end_time, zone.key), r)
        for r in rules
        if r.runs_on(day, zone.key)
    ]
    covering = [(s, e, r.slot_minutes * 60) for s, e, r in sessions if s <= t < e]
    if not covering:
        return f"{who} does not work at that time at {location}"
    on_grid = [(s, e, step) for s, e, step in covering if (t - s) % step == 0]
    if not on_grid:
        s, e, step = covering[0]
        before = _first_on_grid(s, step, t) - step
        options = " or ".join(
            _hh_mm(option, zone) for option in (before, before + step) if s <= option < e
        )
        return f"{who}'s appointments at {location} start every {step // 60} minutes: try {options}"
    busy_from, busy_to = t - visit.before, t + visit.duration + visit.after
    if not any(s <= busy_from and busy_to <= e for s, e, _ in on_grid):
        s, e, _ = on_grid[0]
        return (
            f"A {appointment_type.duration_minutes}-minute {type_name} at {local:%H:%M}"
            f" does not fit in {who}'s session at {location}"
            f" ({_hh_mm(s, zone)} to {_hh_mm(e, zone)})"
        )

    now_day = now.astimezone(zone).date()
    loaded = _load(
        places=[(schedule.pk, schedule.provider_id)],
        visit=visit,
        lo=busy_from,
        hi=busy_to,
        days=(day, day),
        now_day=now_day,
        zone_key=zone.key,
        ignore_appointment_id=ignore_appointment_id,
    )
    clashes = [h for h in loaded.holds[schedule.pk] if h.start < busy_to and h.end > busy_from]
    order = ("leave", "adhoc", "reserved", "appointment")
    clashes.sort(key=lambda h: order.index(h.kind))
    if clashes:
        return _clash_words(clashes[0], who=who, day=day, today=now_day)
    booked = loaded.day_counts.get((provider.pk, day), 0)
    if visit.daily_limit is not None and booked >= visit.daily_limit:
        return f"{who} already sees {booked} {_plural(type_name, booked)} that day"
    return None


def _clash_words(hold: _Hold, *, who: str, day: dt.date, today: dt.date) -> str:
    if hold.kind == "leave":
        return f"{who} is on leave then"
    if hold.kind == "adhoc":
        return f"{who}'s time is blocked then" + (f" ({hold.reason})" if hold.reason else "")
    if hold.kind == "reserved":
        held = " and ".join(_plural(name) for name in hold.held_for) or "other visits"
        words = f"That time is held for {held}"
        if hold.release_days is not None:
            opens = day - dt.timedelta(days=hold.release_days)
            words += f" until {_short_date(opens, today)}"
        return words
    return f"{who} already has an appointment then"
