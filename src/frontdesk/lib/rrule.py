"""Recurrence rules (RFC 5545 RRULE text): parsing into parts, plain weekly rules, and the local
dates a rule falls on in one month. Pure functions over dateutil; no models."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable

from dateutil.rrule import (  # type: ignore[import-untyped, unused-ignore]
    FR,
    MO,
    SA,
    SU,
    TH,
    TU,
    WE,
    WEEKLY,
    rrule,
    rrulestr,
)

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)


def rule_parts(rule: str) -> dict[str, str] | None:
    """{"FREQ": "WEEKLY", "BYDAY": "MO,TH"} for one RRULE line (capitals, "RRULE:" dropped);
    None for a multi-line iCalendar block or a part without "="."""
    text = rule.strip()
    if "\n" in text:
        return None  # a multi-line iCalendar block: leave it to dateutil as written
    text = text.removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if not sep:
            return None
        parts[key.strip().upper()] = value.strip().upper()
    return parts


def weekly_rule(weekdays: Iterable[int], *, interval: int = 1) -> str:
    """The RRULE for "every week (or every `interval` weeks) on these days", 0 being Monday."""
    days = sorted(set(weekdays))
    built = rrule(
        WEEKLY,
        interval=interval,
        byweekday=[_WEEKDAYS[d] for d in days],
        dtstart=dt.datetime(2000, 1, 3),  # noqa: DTZ001 - dropped below; only the RRULE line is kept
    )
    return next(line for line in str(built).splitlines() if line.startswith("RRULE:")).removeprefix(
        "RRULE:"
    )


def simple_weekly(rule: str) -> tuple[list[int], int] | None:
    """(weekdays, interval) when `rule` is a plain weekly rule the checkboxes can show."""
    parts = rule_parts(rule)
    if parts is None or parts.get("FREQ") != "WEEKLY" or set(parts) - {"FREQ", "BYDAY", "INTERVAL"}:
        return None
    codes = [c for c in parts.get("BYDAY", "").split(",") if c]
    if not codes or any(c not in DAY_CODES for c in codes):
        return None
    interval = parts.get("INTERVAL", "1")
    if not interval.isascii() or not interval.isdigit() or not 1 <= int(interval) <= 4:
        return None
    return sorted({DAY_CODES.index(c) for c in codes}), int(interval)


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _fast_forward(rule: str, dtstart: dt.datetime, month_start: dt.date) -> dt.datetime:
    """A later DTSTART with the same occurrences from `month_start` on, so that dateutil does
    not walk years of past weeks. Only for rules whose pattern repeats every whole period
    regardless of where it starts (no COUNT; daily, weekly, or monthly with an explicit day)."""
    parts = rule_parts(rule)
    if parts is None or "COUNT" in parts:
        return dtstart
    try:
        interval = int(parts.get("INTERVAL", "1"))
    except ValueError:
        return dtstart
    if interval < 1:
        return dtstart
    freq = parts.get("FREQ")
    gap_days = (month_start - dtstart.date()).days
    if freq in ("DAILY", "WEEKLY"):
        period = interval * (7 if freq == "WEEKLY" else 1)
        periods = gap_days // period - 1
        # Aware arithmetic on one ZoneInfo is wall-clock arithmetic: 09:00 stays 09:00.
        return dtstart + dt.timedelta(days=periods * period) if periods > 0 else dtstart
    if freq == "MONTHLY" and ("BYDAY" in parts or "BYMONTHDAY" in parts):
        periods = _months_between(dtstart.date(), month_start) // interval - 1
        if periods > 0:
            months = dtstart.month - 1 + periods * interval
            first = dt.date(dtstart.year + months // 12, months % 12 + 1, 1)
            return dtstart.replace(year=first.year, month=first.month, day=1)
    return dtstart


@functools.lru_cache(maxsize=16_384)
def rule_days_in_month(
    rule: str, valid_from: dt.date, start_time: dt.time, zone_key: str, year: int, month: int
) -> frozenset[dt.date]:
    """Local dates in one month on which the rule occurs (a pure function, hence memoised)."""
    zone = zoneinfo.ZoneInfo(zone_key)
    month_start = dt.date(year, month, 1)
    month_end = dt.date(year + month // 12, month % 12 + 1, 1)
    dtstart = dt.datetime.combine(valid_from, start_time, tzinfo=zone)
    dtstart = _fast_forward(rule, dtstart, month_start)
    lo = dt.datetime.combine(month_start, dt.time(0), tzinfo=zone)
    hi = dt.datetime.combine(month_end, dt.time(0), tzinfo=zone)
    try:
        parsed = rrulestr(rule, dtstart=dtstart)
    except ValueError:
        # A floating UNTIL (no Z) cannot be compared with an aware start; rules are local time
        # anyway, so expand with a naive start and naive bounds.
        parsed = rrulestr(rule, dtstart=dtstart.replace(tzinfo=None))
        lo, hi = lo.replace(tzinfo=None), hi.replace(tzinfo=None)
    return frozenset(
        when.date()
        for when in parsed.between(lo, hi, inc=True)
        if month_start <= when.date() < month_end
    )
