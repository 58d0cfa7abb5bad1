"""Clinic wall-clock times on a given day, with the clocks' changes: a skipped time is refused,
a repeated one takes its first occurrence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontdesk.lib.clinic_time import day_words
from frontdesk.scheduling.setup.refusals import SetupRefusedError, hh_mm


@dataclass(frozen=True)
class LocalTime:
    at: dt.datetime  # aware, in the clinic's zone
    ambiguous: bool  # the wall-clock time happens twice (clocks go back); the first is used


def skipped_minutes(day: dt.date, time: dt.time, zone: dt.tzinfo) -> int | None:
    """How far the clocks jump forward over `time` on `day`; None when the time exists."""
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return None
    before, after = first.utcoffset(), naive.replace(tzinfo=zone, fold=1).utcoffset()
    return int(abs((after or dt.timedelta()) - (before or dt.timedelta())).total_seconds() // 60)


def local_datetime(
    day: dt.date, time: dt.time, *, zone: dt.tzinfo, field: str | None = None
) -> LocalTime:
    """Clinic wall-clock time on `day` in the clinic's `zone`. A time the clocks skip that night
    is refused."""
    minutes = skipped_minutes(day, time, zone)
    if minutes is not None:
        raise SetupRefusedError(
            f"{hh_mm(time)} does not exist on {day_words(day)}: the clocks go forward "
            f"{minutes} minutes that night. Choose a time before or after the change.",
            field=field,
        )
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0)
    return LocalTime(first, first.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset())
