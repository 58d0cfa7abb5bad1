"""Two clinics in different zones share one database: each sees its own local time.

Riverside is in New York, whose clocks go back from 02:00 EDT to 01:00 EST on Sunday
2026-11-01; Hilltop is in Kolkata (no clock changes). Each clinic's day, hours, reminders,
close of day, calendar feed and waiting-room screen follow its own zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.flow import services as flow_services
from frontdesk.flow.closing import flow_close_past_days
from frontdesk.flow.display import display_token
from frontdesk.flow.models import QueueEntry, WaitingRoomDisplay
from frontdesk.lib.clinic_time import clinic_zone, local_midnight
from frontdesk.messaging.content import reminder_message
from frontdesk.scheduling import availability
from frontdesk.scheduling.calendar_feed import feed_calendar
from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule, ScheduleTemplate
from frontdesk.scheduling.selectors import day_grid

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
CHANGE_DAY = dt.date(2026, 11, 1)  # New York's clocks go back at 02:00 local (06:00 UTC)


@dataclass
class Site:
    clinic: Clinic
    schedule: Schedule
    visit: AppointmentType
    zone: zoneinfo.ZoneInfo


def _site(clinic: Clinic, zone_name: str) -> Site:
    clinic.time_zone = zone_name
    clinic.save()
    location = Location.objects.create(clinic=clinic, name=f"{clinic.name} main")
    provider = Provider.objects.create(clinic=clinic, given_name="Ana", family_name=clinic.name)
    provider.locations.add(location)
    schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=DAILY",
        start_time=dt.time(9),
        end_time=dt.time(12),
        valid_from=dt.date(2026, 10, 1),
        slot_minutes=30,
    )
    visit = AppointmentType.objects.create(clinic=clinic, name="Check-up", duration_minutes=30)
    return Site(clinic, schedule, visit, zoneinfo.ZoneInfo(zone_name))


@pytest.fixture
def sites(personas: Personas) -> tuple[Site, Site]:
    return _site(personas.clinic, "America/New_York"), _site(personas.other_clinic, "Asia/Kolkata")


def _book(site: Site, start: dt.datetime) -> Appointment:
    end = start + dt.timedelta(minutes=30)
    return Appointment.objects.create(
        clinic=site.clinic,
        patient=make_patient(site.clinic),
        schedule=site.schedule,
        provider=site.schedule.provider,
        appointment_type=site.visit,
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        status=AppointmentStatus.BOOKED,
        created_at=start - dt.timedelta(days=7),
        updated_at=start - dt.timedelta(days=7),
    )


def _desk(site: Site) -> User:
    user = site.clinic.staff.order_by("pk").first()
    assert user is not None
    return user


def _at(site: Site, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=site.zone)


def test_a_clinics_zone_is_read_from_the_clinic_and_must_be_a_real_zone(
    sites: tuple[Site, Site],
) -> None:
    riverside, hilltop = sites
    assert clinic_zone(riverside.clinic) == NEW_YORK
    assert clinic_zone(hilltop.clinic.pk) == KOLKATA
    hilltop.clinic.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError):
        hilltop.clinic.full_clean()


def test_free_times_are_at_each_clinics_local_hours_across_new_yorks_clock_change(
    sites: tuple[Site, Site],
) -> None:
    riverside, hilltop = sites
    now = dt.datetime(2026, 10, 30, tzinfo=dt.UTC)
    firsts = {}
    for site in sites:
        for day in (CHANGE_DAY - dt.timedelta(days=1), CHANGE_DAY):
            zone = clinic_zone(site.clinic)
            slots = availability.free_slots(
                appointment_type=site.visit,
                schedules=[site.schedule],
                start=local_midnight(day, zone),
                end=local_midnight(day + dt.timedelta(days=1), zone),
                now=now,
                limit=20,
            )
            local = [s.start.astimezone(site.zone) for s in slots]
            assert [t.strftime("%H:%M") for t in local] == [
                "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"
            ]  # fmt: skip
            assert {t.date() for t in local} == {day}
            firsts[site.clinic.name, day] = slots[0].start.astimezone(dt.UTC).strftime("%H:%M")
    # 09:00 in New York is 13:00 UTC under daylight time and 14:00 UTC once the clocks go back;
    # 09:00 in Kolkata is 03:30 UTC both days.
    assert firsts == {
        (riverside.clinic.name, dt.date(2026, 10, 31)): "13:00",
        (riverside.clinic.name, CHANGE_DAY): "14:00",
        (hilltop.clinic.name, dt.date(2026, 10, 31)): "03:30",
        (hilltop.clinic.name, CHANGE_DAY): "03:30",
    }


def test_the_day_view_shows_each_clinics_hours_in_its_own_zone(
    personas: Personas, sites: tuple[Site, Site], client: Client
) -> None:
    riverside, hilltop = sites
    for user, site in ((personas.front_desk, riverside), (personas.outsider, hilltop)):
        view = day_grid(user, day=CHANGE_DAY)
        hours = {t.astimezone(site.zone).strftime("%H:%M") for t in view.times}
        assert "09:00" in hours and "11:30" in hours
        assert "08:30" not in hours and "12:00" not in hours

    _book(hilltop, _at(hilltop, CHANGE_DAY, 9))
    with time_machine.travel(dt.datetime(2026, 10, 30, tzinfo=dt.UTC), tick=False):
        page = login_client(client, personas.outsider).get(
            reverse("scheduling:day"), {"date": CHANGE_DAY.isoformat()}
        )
    assert page.status_code == 200
    html = page.content.decode()
    # Her clinic's 09:00 (03:30 UTC), not New York's clock (23:30 the day before).
    assert "09:00" in html and "23:30" not in html


def test_a_ticket_belongs_to_the_day_of_its_clinics_local_midnight(
    sites: tuple[Site, Site],
) -> None:
    riverside, hilltop = sites

    def day_of_walk_in(site: Site, now: dt.datetime) -> dt.date:
        entry = flow_services.walk_in_check_in(
            context=SYSTEM_CONTEXT,
            user=_desk(site),
            patient=make_patient(site.clinic),
            now=now,
        )
        return entry.day

    # 03:30 UTC: 23:30 on Oct 31 in New York (daylight time), 09:00 on Nov 1 in Kolkata.
    early = dt.datetime(2026, 11, 1, 3, 30, tzinfo=dt.UTC)
    assert day_of_walk_in(riverside, early) == dt.date(2026, 10, 31)
    assert day_of_walk_in(hilltop, early) == CHANGE_DAY
    # 18:45 UTC: 13:45 on Nov 1 in New York (standard time), 00:15 on Nov 2 in Kolkata.
    late = dt.datetime(2026, 11, 1, 18, 45, tzinfo=dt.UTC)
    assert day_of_walk_in(riverside, late) == CHANGE_DAY
    assert day_of_walk_in(hilltop, late) == dt.date(2026, 11, 2)


def test_a_reminder_says_the_visits_time_at_its_clinic(sites: tuple[Site, Site]) -> None:
    for site in sites:
        appointment = _book(site, _at(site, CHANGE_DAY, 9))
        message = reminder_message(appointment, now=appointment.start - dt.timedelta(days=1))
        assert "Sunday 1 November 2026" in message.text and "9:00 AM" in message.text
        assert "Sun 1 Nov 9:00 AM" in message.sms_text


def test_each_clinics_day_closes_at_its_own_midnight(sites: tuple[Site, Site]) -> None:
    riverside, hilltop = sites
    morning = dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC)  # Nov 1 in both clinics
    tickets = {}
    for site in sites:
        entry = flow_services.walk_in_check_in(
            context=SYSTEM_CONTEXT,
            user=_desk(site),
            patient=make_patient(site.clinic),
            now=morning + dt.timedelta(hours=site is hilltop),
        )
        assert entry.day == CHANGE_DAY
        tickets[site.clinic.pk] = entry.ticket

    def closed() -> set[int]:
        return set(
            QueueEntry.objects.filter(open_at_close=True).values_list("clinic_id", flat=True)
        )

    # 18:25 UTC: 23:55 in Kolkata, whose day is not over yet.
    flow_close_past_days(
        context=SYSTEM_CONTEXT, now=dt.datetime(2026, 11, 1, 18, 25, tzinfo=dt.UTC)
    )
    assert closed() == set()
    # 18:35 UTC: past midnight in Kolkata, 13:35 in New York.
    report = flow_close_past_days(
        context=SYSTEM_CONTEXT, now=dt.datetime(2026, 11, 1, 18, 35, tzinfo=dt.UTC)
    )
    assert closed() == {hilltop.clinic.pk}
    assert report.flagged == [tickets[hilltop.clinic.pk]]
    # 04:30 UTC on Nov 2 would be past midnight under daylight time, but New York is on
    # standard time since 02:00 on Nov 1: it is 23:30 there.
    flow_close_past_days(context=SYSTEM_CONTEXT, now=dt.datetime(2026, 11, 2, 4, 30, tzinfo=dt.UTC))
    assert closed() == {hilltop.clinic.pk}
    flow_close_past_days(context=SYSTEM_CONTEXT, now=dt.datetime(2026, 11, 2, 5, 1, tzinfo=dt.UTC))
    assert closed() == {hilltop.clinic.pk, riverside.clinic.pk}


def test_the_calendar_feed_gives_each_visit_at_its_clinics_local_hour(
    sites: tuple[Site, Site],
) -> None:
    riverside, hilltop = sites
    now = dt.datetime(2026, 10, 30, tzinfo=dt.UTC)
    _book(riverside, _at(riverside, CHANGE_DAY, 9))
    _book(hilltop, _at(hilltop, CHANGE_DAY, 9))
    new_york = feed_calendar(riverside.schedule.provider, now=now).decode()
    kolkata = feed_calendar(hilltop.schedule.provider, now=now).decode()
    assert "DTSTART:20261101T140000Z" in new_york  # 09:00 EST
    assert "DTSTART:20261101T033000Z" in kolkata  # 09:00 IST


def test_the_waiting_room_screen_shows_its_clinics_clock(
    sites: tuple[Site, Site], client: Client
) -> None:
    now = dt.datetime(2026, 11, 1, 18, 45, tzinfo=dt.UTC)
    clocks = {}
    for site in sites:
        display = WaitingRoomDisplay.objects.create(
            clinic=site.clinic, name="Hall", created_at=timezone.now()
        )
        with time_machine.travel(now, tick=False):
            page = client.get(reverse("flow:display"), {"token": display_token(display)})
        assert page.status_code == 200
        clocks[site.zone.key] = page.content.decode()
    assert 'class="display-clock">13:45<' in clocks["America/New_York"]
    assert 'class="display-clock">00:15<' in clocks["Asia/Kolkata"]
