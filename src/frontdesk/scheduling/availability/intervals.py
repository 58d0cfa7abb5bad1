"""Free time as intervals: pure functions over whole UTC seconds, no database and no Django.

A session is a stretch of local time on a grid (origin, end, step); holds are the stretches a
visit's busy interval (the visit and its buffers) may not touch. The search normalises the
holds into disjoint sorted intervals (`merged`), then sweeps each session's grid, jumping past
each hold (`span_slots`); the booking check asks which holds one busy interval touches
(`clashes`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass

UTC = dt.UTC
DAY = 86_400
# Which hold a refusal names first, when a busy interval touches several.
_CLASH_ORDER = ("leave", "adhoc", "reserved", "appointment")


@dataclass(frozen=True, slots=True)
class Hold:
    """Time a slot's busy interval may not touch, and why (for the officer)."""

    start: int
    end: int
    kind: str  # "appointment", "leave", "adhoc" or "reserved"
    reason: str = ""  # a block's reason
    held_for: tuple[str, ...] = ()  # reserved: the types it is held for
    release_days: int | None = None  # reserved: opens this many days ahead


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit type in seconds: how long, its buffers, and how many a provider sees a day."""

    type_id: int
    duration: int  # seconds
    before: int
    after: int
    daily_limit: int | None


def seconds_of(when: dt.datetime) -> int:
    return math.floor(when.timestamp())


def seconds_up(when: dt.datetime) -> int:
    return math.ceil(when.timestamp())


def at_seconds(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


@functools.lru_cache(maxsize=65_536)
def local_seconds(day: dt.date, time: dt.time, zone_key: str) -> int:
    # Local wall time built with zoneinfo, then converted: a 09:00 session is 09:00 local on
    # both sides of a daylight-saving change (14:00 UTC in winter, 13:00 UTC in summer).
    return math.floor(
        dt.datetime.combine(day, time, tzinfo=zoneinfo.ZoneInfo(zone_key)).timestamp()
    )


def local_day(seconds: int, zone: zoneinfo.ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, zone).date()


def days_between(day_from: dt.date, day_to: dt.date) -> list[dt.date]:
    """Every day from `day_from` to `day_to`, both included."""
    return [day_from + dt.timedelta(days=n) for n in range((day_to - day_from).days + 1)]


def first_on_grid(origin: int, step: int, at_least: int) -> int:
    """The first grid time (origin + k·step, k ≥ 0) at or after `at_least`."""
    if at_least <= origin:
        return origin
    return origin + -(-(at_least - origin) // step) * step


def merged(holds: Sequence[Hold]) -> tuple[list[int], list[int]]:
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


def span_slots(
    origin: int,
    end: int,
    step: int,
    *,
    visit: Visit,
    lo: int,
    hi: int,
    starts: list[int],
    ends: list[int],
    accepts: Callable[[int], bool] | None,
    want: int,
) -> list[int]:
    """Up to `want` grid starts in [lo, hi) whose busy interval fits the session [origin, end)
    and touches no merged hold, and which `accepts` (when given) lets through: a sweep that
    jumps past each hold instead of stepping through it."""
    last = min(hi - 1, end - visit.duration - visit.after)
    t = first_on_grid(origin, step, max(lo, origin + visit.before))
    i = bisect.bisect_right(ends, t - visit.before)
    found: list[int] = []
    while t <= last and len(found) < want:
        busy_from, busy_to = t - visit.before, t + visit.duration + visit.after
        while i < len(ends) and ends[i] <= busy_from:
            i += 1
        if i < len(ends) and starts[i] < busy_to:
            t = first_on_grid(origin, step, ends[i] + visit.before)
            continue
        if accepts is None or accepts(t):
            found.append(t)
        t += step
    return found


def clashes(holds: Sequence[Hold], busy_from: int, busy_to: int) -> list[Hold]:
    """The holds [busy_from, busy_to) touches, the one to name first first."""
    touched = [h for h in holds if h.start < busy_to and h.end > busy_from]
    touched.sort(key=lambda h: _CLASH_ORDER.index(h.kind))
    return touched
