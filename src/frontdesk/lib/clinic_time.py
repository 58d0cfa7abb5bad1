"""The clinic's local time: its zone, the start of a local day, a day in words.

Times are stored in UTC and shown and computed in the zone of the clinic they belong to
(`Clinic.time_zone`). Every caller names the clinic it works for, so no local day is ever taken
from another clinic's clock. `CLINIC_TIME_ZONE` is only the zone of pages that belong to no clinic
(sign-in, a signed-out error) and of a clinic whose zone was left empty.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import zoneinfo

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from frontdesk.clinic.models import Clinic

# Zone names by clinic id, so that code holding only an id (an appointment's clinic_id) pays no
# query on each call. Kept up to date when a clinic is saved or deleted in this process; a
# change made elsewhere (another process, a queryset update) is seen within NAMES_KEPT_SECONDS.
NAMES_KEPT_SECONDS = 60.0
_names: dict[int, str] = {}
_names_since = time.monotonic()


@functools.lru_cache(maxsize=64)
def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name` (an IANA name such as "America/New_York"); the default if empty."""
    return zoneinfo.ZoneInfo(name or settings.CLINIC_TIME_ZONE)


def default_zone() -> zoneinfo.ZoneInfo:
    """The zone of pages that belong to no clinic (`CLINIC_TIME_ZONE`)."""
    return zone_named(settings.CLINIC_TIME_ZONE)


def clinic_zone(clinic: Clinic | int) -> zoneinfo.ZoneInfo:
    """The time zone of `clinic` (the clinic, or its id: one query, then kept a minute)."""
    if isinstance(clinic, Clinic):
        return zone_named(clinic.time_zone)
    global _names_since
    if time.monotonic() - _names_since > NAMES_KEPT_SECONDS:
        _names.clear()
        _names_since = time.monotonic()
    name = _names.get(clinic)
    if name is None:
        name = Clinic.objects.values_list("time_zone", flat=True).get(pk=clinic)
        _names[clinic] = name
    return zone_named(name)


def _keep_name(*, instance: Clinic, **kwargs: object) -> None:
    _names[instance.pk] = instance.time_zone


def _forget_name(*, instance: Clinic, **kwargs: object) -> None:
    _names.pop(instance.pk, None)


post_save.connect(_keep_name, sender=Clinic, dispatch_uid="clinic_time_keep_name")
post_delete.connect(_forget_name, sender=Clinic, dispatch_uid="clinic_time_forget_name")


def local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The start of `day` in `zone`."""
    # Whole days: a zone whose clocks skip midnight starts the day at the first real minute.
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def day_words(day: dt.date) -> str:
    """A day as the set-up pages say it: "Mon Nov 30, 2026"."""
    return f"{day:%a %b} {day.day}, {day.year}"
