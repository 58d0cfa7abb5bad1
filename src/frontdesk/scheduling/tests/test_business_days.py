import datetime as dt
import zoneinfo

import pytest

from conftest import Personas
from frontdesk.scheduling.business_days import (
    business_days_from,
    business_deadline,
    is_business_day,
)
from frontdesk.scheduling.models import ClinicHoliday

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def test_the_next_business_days_skip_weekends_and_the_clinics_holidays(
    personas: Personas,
) -> None:
    clinic = personas.clinic
    ClinicHoliday.objects.create(clinic=clinic, date=dt.date(2026, 12, 25), name="Christmas Day")
    # Thursday 24 December 2026: Friday is a holiday, then the weekend.
    assert business_days_from(clinic.pk, dt.date(2026, 12, 24), 2) == [
        dt.date(2026, 12, 28),
        dt.date(2026, 12, 29),
    ]
    assert not is_business_day(clinic.pk, dt.date(2026, 12, 25))
    assert not is_business_day(clinic.pk, dt.date(2026, 12, 26))
    assert is_business_day(clinic.pk, dt.date(2026, 12, 24))
    # Another clinic's holiday is not this clinic's.
    assert is_business_day(personas.other_clinic.pk, dt.date(2026, 12, 25))


def test_a_deadline_keeps_the_local_hour_across_a_weekend_and_a_clock_change(
    personas: Personas,
) -> None:
    clinic = personas.clinic
    clinic.time_zone = "America/New_York"
    clinic.save()
    # Friday 30 October 2026, 15:00 in New York; clocks go back on Sunday 1 November.
    start = dt.datetime(2026, 10, 30, 15, 0, tzinfo=NEW_YORK)
    due = business_deadline(clinic.pk, start, 1)
    assert due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 2, 15, 0, tzinfo=NEW_YORK)
    assert due.tzinfo == dt.UTC
    # Left on a Saturday: the first business day is Monday, the second Tuesday.
    saturday = dt.datetime(2026, 10, 31, 9, 30, tzinfo=NEW_YORK)
    assert business_deadline(clinic.pk, saturday, 2).astimezone(NEW_YORK).date() == dt.date(
        2026, 11, 3
    )


def test_a_long_deadline_looks_past_the_first_window_of_holidays(personas: Personas) -> None:
    days = business_days_from(personas.clinic.pk, dt.date(2026, 1, 1), 70)
    assert len(days) == 70
    assert all(day.weekday() < 5 for day in days)
    assert days == sorted(set(days))


def test_a_deadline_of_no_days_is_refused(personas: Personas) -> None:
    with pytest.raises(ValueError):
        business_deadline(personas.clinic.pk, dt.datetime(2026, 1, 5, tzinfo=dt.UTC), 0)
