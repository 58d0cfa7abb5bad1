"""The demo clinic is alive on any day: weekend hours at one location, queues on a Sunday,
and closed on the public holidays it seeds."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from conftest import kept_for_module, login_client
from frontdesk.accounts.models import User
from frontdesk.clinic.models import AppointmentType
from frontdesk.demo.schedule import demo_holidays, us_federal_holidays
from frontdesk.demo.services import DemoOutcome, demo_load
from frontdesk.flow.demo import flow_demo_today
from frontdesk.flow.models import QueueEntry
from frontdesk.scheduling.availability import free_slots
from frontdesk.scheduling.models import Appointment, ClinicHoliday, Schedule

NY = zoneinfo.ZoneInfo("America/New_York")
SATURDAY = dt.datetime(2026, 12, 5, 11, 0, tzinfo=NY)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def saturday_built(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoOutcome]:
    """The demo clinic built on a Saturday, once for this module's tests (each looks at it or
    changes it inside its own transaction, rolled back after it). The Sunday build is in
    test_demo_sunday.py: a second demo in the same database would find this one's clinic."""
    folder = tmp_path_factory.mktemp("saturday")

    def build() -> DemoOutcome:
        with time_machine.travel(SATURDAY, tick=False):
            return demo_load(seed=3, patients=200, credentials_path=folder / "credentials.txt")

    yield from kept_for_module(django_db_blocker, build, MEDIA_ROOT=folder / "media")


@pytest.fixture
def saturday(db: None, saturday_built: DemoOutcome) -> DemoOutcome:
    return saturday_built


def _today_at_weekend_location(outcome: DemoOutcome, now: dt.datetime) -> list[Appointment]:
    clinic = outcome.result.clinic
    weekend_location = clinic.locations.order_by("pk").first()
    day_start = now.replace(hour=0)
    return list(
        Appointment.objects.filter(
            clinic=clinic,
            schedule__location=weekend_location,
            start__gte=day_start,
            start__lt=day_start + dt.timedelta(days=1),
        )
    )


def weekend_visits_and_queue(outcome: DemoOutcome, now: dt.datetime) -> None:
    """The demo built at `now`, a weekend day, has visits at its weekend location today, a
    flow queue the nurse sees, and the front desk's patients on the flow page."""
    today = _today_at_weekend_location(outcome, now)
    assert len(today) >= 10
    # Only the weekend location opens: the other locations' providers are at home.
    assert {a.schedule.location_id for a in today} == {today[0].schedule.location_id}
    with time_machine.travel(now, tick=False):
        flow = flow_demo_today(clinic=outcome.result.clinic, now=now)
        assert flow.entries > 3
        assert {"done", "waiting"} <= set(flow.by_status)
        nurse = User.objects.get(username="nurse")
        board = login_client(Client(), nurse).get("/flow/board/")
        assert board.status_code == 200
        ticket = QueueEntry.objects.filter(status="waiting", appointment__isnull=False).first()
        assert ticket is not None and ticket.ticket in board.content.decode()
        desk = User.objects.get(username="frontdesk")
        page = login_client(Client(), desk).get("/flow/").content.decode()
        patient = today[0].patient
        assert patient.family_name in page


def test_a_demo_built_on_a_saturday_has_visits_today_and_a_queue(saturday: DemoOutcome) -> None:
    weekend_visits_and_queue(saturday, SATURDAY)


def test_a_weekend_provider_works_one_weekend_day_and_the_weekdays(saturday: DemoOutcome) -> None:
    rules = {
        schedule.provider_id: set(schedule.templates.values_list("rrule", flat=True))
        for schedule in Schedule.objects.filter(clinic=saturday.result.clinic)
    }
    weekend = [r for r in rules.values() if any("SA" in x or "SU" in x for x in r)]
    assert len(weekend) >= 2
    assert {"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SU"} <= {
        rule for found in weekend for rule in found
    }


def test_the_demo_seeds_the_public_holidays_and_books_nothing_on_them(
    saturday: DemoOutcome,
) -> None:
    clinic = saturday.result.clinic
    holidays = dict(ClinicHoliday.objects.filter(clinic=clinic).values_list("date", "name"))
    assert holidays[dt.date(2026, 12, 25)] == "Christmas Day"
    assert holidays[dt.date(2027, 1, 1)] == "New Year's Day"
    assert dt.date(2027, 1, 18) in holidays  # Martin Luther King Jr. Day, within eight weeks
    for day in holidays:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=NY)
        booked = Appointment.objects.filter(
            clinic=clinic, start__gte=start, start__lt=start + dt.timedelta(days=1)
        )
        assert not booked.exists(), day


def test_a_holiday_has_no_free_slots_and_the_day_before_has(saturday: DemoOutcome) -> None:
    clinic = saturday.result.clinic
    kind = AppointmentType.objects.get(clinic=clinic, name="Follow-up visit")
    schedules = Schedule.objects.filter(clinic=clinic)

    def slots_on(day: dt.date) -> int:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=NY)
        found = free_slots(
            appointment_type=kind,
            schedules=schedules,
            start=start,
            end=start + dt.timedelta(days=1),
            now=SATURDAY,
            limit=50,
        )
        return len(found)

    assert slots_on(dt.date(2026, 12, 25)) == 0  # Christmas, a Friday
    assert slots_on(dt.date(2026, 12, 24)) > 0


def test_the_day_the_demo_is_built_stays_open_even_on_a_holiday() -> None:
    days = demo_holidays(today=dt.date(2026, 12, 25), last_day=dt.date(2027, 1, 31))
    assert dt.date(2026, 12, 25) not in days
    assert days[dt.date(2027, 1, 1)] == "New Year's Day"


def test_the_federal_holidays_and_their_observed_days_are_those_of_the_calendar() -> None:
    assert us_federal_holidays(2026) == {
        dt.date(2026, 1, 1): "New Year's Day",
        dt.date(2026, 1, 19): "Martin Luther King Jr. Day",
        dt.date(2026, 2, 16): "Washington's Birthday",
        dt.date(2026, 5, 25): "Memorial Day",
        dt.date(2026, 6, 19): "Juneteenth National Independence Day",
        dt.date(2026, 7, 3): "Independence Day (observed)",
        dt.date(2026, 7, 4): "Independence Day",
        dt.date(2026, 9, 7): "Labor Day",
        dt.date(2026, 10, 12): "Columbus Day",
        dt.date(2026, 11, 11): "Veterans Day",
        dt.date(2026, 11, 26): "Thanksgiving Day",
        dt.date(2026, 12, 25): "Christmas Day",
    }
    later = us_federal_holidays(2027)
    assert later[dt.date(2027, 5, 31)] == "Memorial Day"  # the last Monday of May
    assert later[dt.date(2027, 6, 18)] == "Juneteenth National Independence Day (observed)"
    assert later[dt.date(2027, 7, 5)] == "Independence Day (observed)"
    assert later[dt.date(2027, 12, 24)] == "Christmas Day (observed)"
    # 1 January 2028 is a Saturday: observed on the last day of 2027.
    assert demo_holidays(today=dt.date(2027, 12, 1), last_day=dt.date(2028, 1, 10))[
        dt.date(2027, 12, 31)
    ] == ("New Year's Day (observed)")
