"""The demo clinic's schedule: templates for every provider, the clinic's public holidays and a
realistic book.

Eight weeks ahead at about 60 % full, and today in mixed states (seen, no-show, arrived,
checked in, still to come) so the calendar is alive on `make run`. The first location keeps
weekend hours (its providers take Saturdays and Sundays in turn), so the demo is alive on any
day of the week. The clinic is closed on the US federal holidays (and their observed days) that
fall in the book, except on the day the demo is built, so even a demo started on a holiday has a
day to show.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from django.utils import timezone

from frontdesk.clinic.models import AppointmentType, Clinic, Provider
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)

WEEKS_AHEAD = 8
FILL = 0.6
SESSIONS = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0)))
GRID = dt.timedelta(minutes=10)
WEEKDAYS = "MO,TU,WE,TH,FR"
# At the weekend location, providers take Saturdays and Sundays in turn (see `_working_days`).
WEEKEND_DAYS = ("SA", "SU")
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (0 = Monday) of the month; n = -1 for the last."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def us_federal_holidays(year: int) -> dict[dt.date, str]:
    """The eleven US federal holidays of the year (5 U.S.C. 6103), and the weekday a fixed-date
    one is observed on when it falls on a weekend (Friday before, Monday after). Computed here:
    the `holidays` package would pin python-dateutil below 3, and Frontdesk's rules need 4."""
    found: dict[dt.date, str] = {
        dt.date(year, 1, 1): "New Year's Day",
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _nth_weekday(year, 5, 0, -1): "Memorial Day",
        dt.date(year, 7, 4): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 10, 0, 2): "Columbus Day",
        dt.date(year, 11, 11): "Veterans Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        dt.date(year, 12, 25): "Christmas Day",
    }
    if year >= 2021:
        found[dt.date(year, 6, 19)] = "Juneteenth National Independence Day"
    observed = {}
    for day, name in found.items():
        if day.weekday() in (5, 6):
            shift = -1 if day.weekday() == 5 else 1
            observed[day + dt.timedelta(days=shift)] = f"{name} (observed)"
    return {**found, **observed}


def demo_holidays(*, today: dt.date, last_day: dt.date) -> dict[dt.date, str]:
    """The clinic's public holidays (observed days included) from `today` to `last_day`, less
    `today`: the demo clinic is American (addresses, +1 numbers), so the US federal ones."""
    found: dict[dt.date, str] = {}
    # A year's New Year's Day may be observed on the last day of the year before.
    for year in range(today.year, last_day.year + 2):
        found.update(us_federal_holidays(year))
    return {day: found[day] for day in sorted(found) if today < day <= last_day}


def _working_days(*, position: int, weekend_location: bool) -> str:
    """The provider's BYDAY list: weekdays, and at the weekend location one weekend day in
    turn (the first provider there Saturdays, the second Sundays, and so on)."""
    if not weekend_location:
        return WEEKDAYS
    return f"{WEEKDAYS},{WEEKEND_DAYS[position % len(WEEKEND_DAYS)]}"


def demo_schedule_build(
    *, clinic: Clinic, seed: int, today: dt.date, now: dt.datetime | None = None
) -> int:
    """Create schedules, templates and appointments; returns how many appointments."""
    now = now or timezone.now()
    rng = random.Random(f"frontdesk-demo:{seed}:schedule")
    zone = zoneinfo.ZoneInfo(clinic.time_zone)
    providers = list(
        Provider.objects.filter(clinic=clinic).order_by("pk").prefetch_related("locations")
    )
    kinds = list(AppointmentType.objects.filter(clinic=clinic).order_by("pk"))
    allowed = {k.pk: set(k.allowed_providers.values_list("pk", flat=True)) for k in kinds}
    patient_ids = list(clinic.patients.filter(is_active=True).values_list("pk", flat=True))
    if not providers or not kinds or not patient_ids:
        return 0
    monday = today - dt.timedelta(days=today.weekday())
    closed = demo_holidays(today=today, last_day=today + dt.timedelta(days=WEEKS_AHEAD * 7))
    ClinicHoliday.objects.bulk_create(
        ClinicHoliday(clinic=clinic, date=day, name=name) for day, name in closed.items()
    )
    weekend_location = clinic.locations.order_by("pk").first()
    at_weekend_location = 0
    rows: list[Appointment] = []
    for provider in providers:
        location = provider.locations.order_by("pk").first()
        if location is None:
            continue
        schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
        days = _working_days(
            position=at_weekend_location, weekend_location=location == weekend_location
        )
        at_weekend_location += location == weekend_location
        for start, end in SESSIONS:
            ScheduleTemplate.objects.create(
                schedule=schedule,
                rrule=f"FREQ=WEEKLY;BYDAY={days}",
                start_time=start,
                end_time=end,
                valid_from=monday,
                slot_minutes=10,
                overbook_cap=1,
            )
        mine = [k for k in kinds if not allowed[k.pk] or provider.pk in allowed[k.pk]]
        for offset in range(WEEKS_AHEAD * 7):
            day = today + dt.timedelta(days=offset)
            if _BYDAY[day.weekday()] not in days or day in closed:
                continue
            for start, end in SESSIONS:
                rows.extend(
                    _fill_session(
                        rng=rng,
                        schedule=schedule,
                        kinds=mine,
                        patient_ids=patient_ids,
                        start=dt.datetime.combine(day, start, tzinfo=zone),
                        end=dt.datetime.combine(day, end, tzinfo=zone),
                        now=now,
                    )
                )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    AppointmentHistory.objects.bulk_create(
        [
            AppointmentHistory(
                appointment=a,
                at=a.created_at,
                from_status="",
                to_status=a.status,
                to_start=a.start,
                reason="demo",
            )
            for a in rows
        ],
        batch_size=2000,
    )
    return len(rows)


def _fill_session(
    *,
    rng: random.Random,
    schedule: Schedule,
    kinds: list[AppointmentType],
    patient_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> list[Appointment]:
    found = []
    moment = start
    while moment < end:
        kind = rng.choice(kinds)
        visit_start = moment + dt.timedelta(minutes=kind.buffer_before_minutes)
        visit_end = visit_start + dt.timedelta(minutes=kind.duration_minutes)
        busy_end = visit_end + dt.timedelta(minutes=kind.buffer_after_minutes)
        if busy_end > end or rng.random() >= FILL:
            moment += GRID  # left free
            continue
        found.append(
            Appointment(
                clinic_id=schedule.clinic_id,
                patient_id=rng.choice(patient_ids),
                schedule=schedule,
                provider_id=schedule.provider_id,
                appointment_type=kind,
                start=visit_start,
                end=visit_end,
                busy_start=moment,
                busy_end=busy_end,
                status=_status_now(rng, visit_start, visit_end, now),
                created_at=now - dt.timedelta(days=rng.randint(1, 40)),
                updated_at=now,
            )
        )
        # The next visit starts on the next grid line after this one's busy time.
        moment = start + GRID * -(-(busy_end - start) // GRID)
    return found


def _status_now(rng: random.Random, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> str:
    if end <= now - dt.timedelta(hours=1):
        return AppointmentStatus.NOSHOW if rng.random() < 0.08 else AppointmentStatus.FULFILLED
    if start <= now:
        return rng.choice(
            [AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN, AppointmentStatus.FULFILLED]
        )
    if start <= now + dt.timedelta(hours=2):
        return rng.choice([AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED])
    return AppointmentStatus.BOOKED
