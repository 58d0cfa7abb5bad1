"""The clinic's local time: its zone, the start of a local day, a day in words.

Every page and message shows times in the clinic's zone, read from `CLINIC_TIME_ZONE` today.
The helpers take no clinic yet so that a later change can give them an optional one (a zone per
clinic) without touching their callers.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings


def clinic_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)


def local_midnight(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The start of `day` in `zone` (the clinic's by default)."""
    # Whole days: a zone whose clocks skip midnight starts the day at the first real minute.
    zone = zone if zone is not None else clinic_zone()
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def day_words(day: dt.date) -> str:
    """A day as the set-up pages say it: "Mon Nov 30, 2026"."""
    return f"{day:%a %b} {day.day}, {day.year}"
