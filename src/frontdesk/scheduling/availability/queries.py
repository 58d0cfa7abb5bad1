"""Availability's reads: a search's schedules and templates, holidays, and the appointments and
blocks that hold time, each in one query whatever the number of schedules.

The queries are written out: building and compiling one through the ORM took about twice as
long as running it (measured: 1.6 ms against 0.9 ms), and they are the hot path of every "next
free time" screen. Names come from the models' _meta; every value is a parameter. Datetimes
come back as epoch seconds computed by the database, times and dates as text parsed through a
small cache: no converter runs per row in Python.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Field, Model, Q, QuerySet

from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.lib.rrule import rule_days_in_month
from frontdesk.scheduling.availability.intervals import (
    Hold,
    Visit,
    at_seconds,
    days_between,
    local_seconds,
)
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)

# An appointment's busy interval is at most 12 hours (a visit is at most 8, by the type's check
# constraint, plus its buffers): this lower bound lets the (provider, busy_start) index serve
# the overlap query. Should one ever be longer, the database's no-double-booking constraint
# still refuses the clash when the booking is inserted.
_LONGEST_BUSY = dt.timedelta(hours=12)


# --- SQL ---------------------------------------------------------------------------------------


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


# --- Templates and holidays -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
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
    def of(cls, t: ScheduleTemplate) -> Rule:
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


RULE_COLUMNS = (
    "pk",
    "schedule_id",
    "rrule",
    "start_time",
    "end_time",
    "valid_from",
    "valid_until",
    "slot_minutes",
)


def rules_by_schedule(
    schedule_ids: Iterable[int], day_from: dt.date, day_to: dt.date
) -> dict[int, list[Rule]]:
    found: dict[int, list[Rule]] = defaultdict(list)
    rows = (
        ScheduleTemplate.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day_from),
            schedule_id__in=list(schedule_ids),
            valid_from__lte=day_to,
        )
        .order_by("start_time", "pk")
        .values_list(*RULE_COLUMNS)
    )
    for row in rows:
        rule = Rule(*row)
        found[rule.schedule_id].append(rule)
    return found


def holidays_between(
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


# --- Busy and blocked time --------------------------------------------------------------------


def appointment_rows(
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


def block_rows(
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


@dataclass(slots=True)
class Loaded:
    holds: dict[int, list[Hold]]  # per schedule id, sorted
    day_counts: dict[tuple[int, dt.date], int]  # (provider id, local date) -> this type booked


def visit_of(appointment_type: AppointmentType) -> Visit:
    return Visit(
        appointment_type.pk,
        appointment_type.duration_minutes * 60,
        appointment_type.buffer_before_minutes * 60,
        appointment_type.buffer_after_minutes * 60,
        appointment_type.daily_limit,
    )


def holds_load(
    *,
    places: Sequence[tuple[int, int]],
    visit: Visit,
    lo: int,
    hi: int,
    days: tuple[dt.date, dt.date] | None,
    now_day: dt.date,
    zone_key: str,
    ignore_appointment_id: int | None,
) -> Loaded:
    """Holds overlapping [lo, hi) for these (schedule id, provider id) places, and this type's
    bookings per provider and local day over `days` (inclusive) when the type has a daily
    limit: one query on appointments and one on blocks, whatever the number of places."""
    schedule_ids = [schedule_id for schedule_id, _ in places]
    provider_ids = sorted({provider_id for _, provider_id in places})
    midnights: list[int] = []
    day_list: list[dt.date] = []
    daily = None
    if days is not None and visit.daily_limit is not None:
        day_list = days_between(days[0], days[1])
        midnights = [local_seconds(day, dt.time(0), zone_key) for day in day_list]
        midnights.append(local_seconds(days[1] + dt.timedelta(days=1), dt.time(0), zone_key))
        daily = (visit.type_id, at_seconds(midnights[0]), at_seconds(midnights[-1]))

    by_provider: dict[int, list[Hold]] = defaultdict(list)
    day_counts: dict[tuple[int, dt.date], int] = defaultdict(int)
    rows = appointment_rows(
        provider_ids=provider_ids,
        lo=at_seconds(lo),
        hi=at_seconds(hi),
        daily=daily,
        ignore_appointment_id=ignore_appointment_id,
    )
    for provider_id, b_start, b_end, is_overbook, type_id, start in rows:
        if not is_overbook and b_start < hi and b_end > lo:
            by_provider[provider_id].append(Hold(b_start, b_end, "appointment"))
        if type_id == visit.type_id and midnights and midnights[0] <= start < midnights[-1]:
            day_counts[provider_id, day_list[bisect.bisect_right(midnights, start) - 1]] += 1

    blocks = block_rows(
        schedule_ids=schedule_ids, provider_ids=provider_ids, lo=at_seconds(lo), hi=at_seconds(hi)
    )
    by_block: dict[int, tuple[int, int, str, int, int, int | None, str]] = {}
    held_types: dict[int, dict[int, str]] = defaultdict(dict)
    # One row per (block, type it is held for): the block itself once, its types gathered.
    for pk, schedule_id, provider_id, kind, start, end, release, reason, type_id, name in blocks:
        by_block[pk] = (schedule_id, provider_id, kind, start, end, release, reason)
        if type_id is not None:
            held_types[pk][type_id] = name

    by_schedule: dict[int, list[Hold]] = defaultdict(list)
    for pk, (schedule_id, provider_id, kind, start, end, release, reason) in by_block.items():
        if kind == BlockKind.LEAVE:
            by_provider[provider_id].append(Hold(start, end, "leave", reason))
        elif kind == BlockKind.ADHOC:
            by_schedule[schedule_id].append(Hold(start, end, "adhoc", reason))
        elif kind == BlockKind.RESERVED and visit.type_id not in held_types[pk]:
            # Held for other types: opens to every type `release` days ahead, i.e. for slots on
            # local dates up to today + release. Only the part after that stays held.
            held_from = start
            if release is not None:
                opens_until = now_day + dt.timedelta(days=release + 1)
                held_from = max(start, local_seconds(opens_until, dt.time(0), zone_key))
            if held_from < end:
                names = tuple(sorted(held_types[pk].values()))
                by_schedule[schedule_id].append(
                    Hold(held_from, end, "reserved", reason, names, release)
                )

    holds = {
        schedule_id: sorted(
            by_provider.get(provider_id, []) + by_schedule.get(schedule_id, []),
            key=lambda h: (h.start, h.end),
        )
        for schedule_id, provider_id in places
    }
    return Loaded(holds, day_counts)


# --- The schedules of a search -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A schedule as the search needs it; model instances are made for the results only."""

    schedule_id: int
    provider_id: int
    clinic_id: int
    rank: tuple[str, str, int, int]  # results at one time: by provider name


def places_for(
    appointment_type: AppointmentType,
    schedules: Iterable[Schedule],
    day_from: dt.date,
    day_to: dt.date,
) -> tuple[list[Place], dict[int, list[Rule]], dict[int, Schedule]]:
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
    places: dict[int, Place] = {}
    rules: dict[int, list[Rule]] = defaultdict(list)
    for row in _rows(sql, params):
        pk, schedule_id, rrule, start, end, valid_from, valid_until, minutes = row[:8]
        provider_id, clinic_id, family, given = row[8:]
        rule = Rule(
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
            places[schedule_id] = Place(schedule_id, provider_id, clinic_id, rank)
    return list(places.values()), rules, instances
