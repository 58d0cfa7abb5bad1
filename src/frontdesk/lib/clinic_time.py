"""The clinic's local time: its zone, the start of a local day, a day in words.

Times are stored in UTC and shown and computed in the zone of the clinic they belong to
(`Clinic.time_zone`). Every caller names the clinic it works for, so no local day is ever taken
from another clinic's clock. `CLINIC_TIME_ZONE` is only the zone of pages that belong to no clinic
(sign-in, a signed-out error) and of a clinic whose zone was left empty.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from django.conf import settings

from frontdesk.clinic.models import Clinic


@functools.lru_cache(maxsize=64)
def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name` (an IANA name such as "America/New_York"); the default if empty."""
    return zoneinfo.ZoneInfo(name or settings.CLINIC_TIME_ZONE)


def default_zone() -> zoneinfo.ZoneInfo:
    """The zone of pages that belong to no clinic (`CLINIC_TIME_ZONE`)."""
    return zone_named(settings.CLINIC_TIME_ZONE)


def clinic_zone(clinic: Clinic | int | None = None) -> zoneinfo.ZoneInfo:
    """The time zone of `clinic` (the clinic, or its id: one query)."""
    if clinic is None:
        return default_zone()
    if isinstance(clinic, Clinic):
        return zone_named(clinic.time_zone)
    name = Clinic.objects.values_list("time_zone", flat=True).get(pk=clinic)
    return zone_named(name)


def local_midnight(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The start of `day` in `zone`."""
    zone = zone if zone is not None else default_zone()
    # Whole days: a zone whose clocks skip midnight starts the day at the first real minute.
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def day_words(day: dt.date) -> str:
    """A day as the set-up pages say it: "Mon Nov 30, 2026"."""
    return f"{day:%a %b} {day.day}, {day.year}"
