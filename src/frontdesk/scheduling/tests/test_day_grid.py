"""The day view draws its rows from the schedules' own grids, shows each visit's start time in
its exact row, and explains its colours in a legend."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.scheduling import selectors, services
from frontdesk.scheduling.models import (
    Appointment,
    Block,
    BlockKind,
    Schedule,
    ScheduleTemplate,
)

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York
DAY = "2026-11-24"
CSS = Path(__file__).resolve().parents[2] / "static" / "frontdesk" / "app.css"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def working(personas: Personas, family_name: str, grid: int) -> Schedule:
    """A provider at Eastside on weekdays 09:00-17:00, bookable every `grid` minutes."""
    location, _ = Location.objects.get_or_create(clinic=personas.clinic, name="Eastside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name=family_name, credentials="MD"
    )
    provider.locations.add(location)
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start_time=dt.time(9, 0),
        end_time=dt.time(17, 0),
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=grid,
        overbook_cap=2,
    )
    return schedule


@pytest.fixture
def short_visit(personas: Personas) -> AppointmentType:
    return AppointmentType.objects.create(
        clinic=personas.clinic, name="Short visit", duration_minutes=20
    )


def book(
    user: User,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
    name: str,
    overbook_reason: str = "",
) -> Appointment:
    return services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=user,
        patient=make_patient(schedule.clinic, given_name=name, family_name=f"Family{name}"),
        schedule=schedule,
        appointment_type=kind,
        start=start,
        overbook_reason=overbook_reason,
    )


def row(html: str, time: str) -> str:
    """The table row whose time heading is `time`."""
    match = re.search(rf'<th scope="row">{time}</th>(.*?)</tr>', html, re.S)
    assert match, f"no {time} row"
    return match.group(1)


def test_a_ten_minute_schedule_puts_a_1010_visit_in_the_1010_row_with_its_time_shown(
    personas: Personas,
    short_visit: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    schedule = working(personas, "Tenner", 10)
    book(
        personas.front_desk,
        schedule,
        short_visit,
        dt.datetime(2026, 11, 24, 10, 10, tzinfo=clinic_tz),
        "Ten",
    )

    html = client_for(personas.front_desk).get("/schedule/", {"date": DAY}).content.decode()

    assert "FamilyTen" not in row(html, "10:00")
    cell = row(html, "10:10")
    assert "FamilyTen, Ten" in cell
    assert '<span class="appt-time">10:10–10:30</span>' in cell
    assert 'rowspan="2"' in cell
    assert "One row every 10 minutes" in html


def test_providers_on_ten_and_fifteen_minute_grids_share_five_minute_rows(
    personas: Personas,
    short_visit: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    tens = working(personas, "Tenner", 10)
    fifteens = working(personas, "Fifteen", 15)
    book(
        personas.front_desk,
        tens,
        short_visit,
        dt.datetime(2026, 11, 24, 10, 10, tzinfo=clinic_tz),
        "Ten",
    )
    book(
        personas.front_desk,
        fifteens,
        short_visit,
        dt.datetime(2026, 11, 24, 10, 15, tzinfo=clinic_tz),
        "Fift",
    )

    html = client_for(personas.front_desk).get("/schedule/", {"date": DAY}).content.decode()

    assert "One row every 5 minutes" in html
    assert "FamilyTen" in row(html, "10:10") and "FamilyFift" not in row(html, "10:10")
    assert "FamilyFift" in row(html, "10:15")
    # A 10-minute provider's free 10:05 is no start of theirs: shown free, not offered to book.
    free_links = re.findall(r"free, book at (\d\d:\d\d)", row(html, "10:05"))
    assert free_links == []
    assert "free, book at 10:00" in row(html, "10:00")


def test_a_visit_moved_off_the_grid_by_hand_sits_in_the_row_it_starts_in_with_its_true_time(
    personas: Personas,
    short_visit: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    schedule = working(personas, "Tenner", 10)
    visit = book(
        personas.front_desk,
        schedule,
        short_visit,
        dt.datetime(2026, 11, 24, 10, 10, tzinfo=clinic_tz),
        "Odd",
    )
    start = dt.datetime(2026, 11, 24, 10, 13, tzinfo=clinic_tz)
    Appointment.objects.filter(pk=visit.pk).update(  # an older grid, or a fix by hand
        start=start,
        end=start + dt.timedelta(minutes=20),
        busy_start=start,
        busy_end=start + dt.timedelta(minutes=20),
    )

    html = client_for(personas.front_desk).get("/schedule/", {"date": DAY}).content.decode()

    cell = row(html, "10:10")
    assert "FamilyOdd, Odd" in cell
    assert '<span class="appt-time">10:13–10:33</span>' in cell
    assert 'rowspan="3"' in cell  # 10:10, 10:20 and 10:30 rows


def test_the_legend_names_every_colour_the_grid_uses_in_words(
    personas: Personas,
    short_visit: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    schedule = working(personas, "Tenner", 10)
    away = working(personas, "Away", 10)

    def at(hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, 24, hour, minute, tzinfo=clinic_tz)

    book(personas.front_desk, schedule, short_visit, at(9), "Booked")
    confirmed = book(personas.front_desk, schedule, short_visit, at(10), "Confirmed")
    services.appointment_confirm(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=confirmed
    )
    arrived = book(personas.front_desk, schedule, short_visit, at(11), "Arrived")
    services.appointment_mark_checked_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=arrived
    )
    book(personas.supervisor, schedule, short_visit, at(9), "Squeezed", overbook_reason="urgent")
    Block.objects.create(schedule=schedule, kind=BlockKind.ADHOC, start=at(15), end=at(15, 30))
    Block.objects.create(schedule=away, kind=BlockKind.LEAVE, start=at(0), end=at(23, 59))

    html = client_for(personas.front_desk).get("/schedule/", {"date": DAY}).content.decode()

    grid = html.split('class="table day-grid"', 1)[1]
    used = {
        key
        for classes in re.findall(r'<td[^>]*class="([^"]*)"', grid)
        for key in re.findall(r"status-([a-z-]+)", classes)
    }
    assert {"booked", "confirmed", "checked-in", "overbook", "adhoc", "leave"} <= used
    legend = html.split('class="legend"', 1)[1].split("</ul>", 1)[0]
    listed = dict(
        re.findall(r'swatch status-([a-z-]+)" aria-hidden="true"></span>([^<]+)</li>', legend)
    )
    assert used <= set(listed)
    assert listed == dict(selectors.DAY_LEGEND)
    css = CSS.read_text()
    for key in listed:
        assert f".swatch.status-{key}" in css, key
    # The words are in the cells too, not the colour alone.
    assert "Confirmed" in row(html, "10:00") and "Checked in" in row(html, "11:00")
    assert "overbooked" in row(html, "09:00")
    assert "Blocked" in row(html, "15:00") and "Leave" in row(html, "09:00")
