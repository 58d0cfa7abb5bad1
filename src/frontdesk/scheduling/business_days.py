"""Business days: Monday to Friday in the clinic's own zone, less the clinic's holidays.

Deadlines the clinic promises (a callback, an answer to a medical question, a complaint's
acknowledgement) and "the next two working days" are counted in business days, whatever hours
a location keeps at weekends.
"""

from __future__ import annotations

import datetime as dt

from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.models import ClinicHoliday

# Holidays are looked up this far ahead at once; a deadline further out looks again.
_WINDOW_DAYS = 60


def _holidays(clinic_id: int, first: dt.date, last: dt.date) -> set[dt.date]:
    return set(
        ClinicHoliday.objects.filter(
            clinic_id=clinic_id, date__gte=first, date__lte=last
        ).values_list("date", flat=True)
    )


def business_days_from(clinic_id: int, day: dt.date, count: int) -> list[dt.date]:
    """The first `count` business days after `day` (not `day` itself), in order."""
    found: list[dt.date] = []
    start = day
    while len(found) < count:
        last = start + dt.timedelta(days=_WINDOW_DAYS)
        closed = _holidays(clinic_id, start, last)
        current = start
        while current < last and len(found) < count:
            current += dt.timedelta(days=1)
            if current.weekday() < 5 and current not in closed:
                found.append(current)
        start = last
    return found


def is_business_day(clinic_id: int, day: dt.date) -> bool:
    return day.weekday() < 5 and not _holidays(clinic_id, day, day)


def business_deadline(clinic_id: int, start: dt.datetime, days: int) -> dt.datetime:
    """`days` business days after `start`, at the same local time of day (aware, UTC).

    Work that arrives on a weekend or a holiday starts counting from the next business day, so
    a question left on Saturday with one business day to answer is due at the end of Monday's
    same hour rather than on Sunday.
    """
    if days < 1:
        raise ValueError("a deadline in business days is at least one day")
    zone = clinic_zone(clinic_id)
    local = start.astimezone(zone)
    target = business_days_from(clinic_id, local.date(), days)[-1]
    wall = dt.datetime.combine(target, local.time().replace(tzinfo=None))
    # fold=0: a wall time repeated by a daylight-saving change takes its first occurrence.
    return wall.replace(tzinfo=zone).astimezone(dt.UTC)
