"""Availability: free time computed from templates minus holidays, blocks and bookings.

Every test passes `now` explicitly; nothing reads the clock. Local times are New York's, and
the week of Monday 2026-03-02 is the default week (daylight saving starts Sunday 2026-03-08).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.availability import (
    FreeSlot,
    SlotPreferences,
    free_slots,
    slot_is_bookable,
    template_sessions,
)
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)

NY = zoneinfo.ZoneInfo("America/New_York")
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


@pytest.fixture(autouse=True)
def _new_york(settings: Any) -> None:
    settings.CLINIC_TIME_ZONE = "America/New_York"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


DAY = dt.timedelta(days=1)
MON = dt.date(2026, 3, 2)
TUE, WED, THU, FRI = (MON + dt.timedelta(days=n) for n in range(1, 5))
MONDAY_MORNING = at(MON, 7)


@dataclass
class Desk:
    clinic: Clinic
    patient: Patient
    northside: Location
    lee: Provider
    lee_north: Schedule
    physical: AppointmentType  # 30 minutes
    quick: AppointmentType  # 15 minutes
    new_patient: AppointmentType  # 45 minutes

    def provider(self, given: str, family: str, credentials: str = "MD") -> Provider:
        return Provider.objects.create(
            clinic=self.clinic,
            given_name=given,
            family_name=family,
            credentials=credentials,
            specialty="Family medicine",
        )

    def schedule(
        self,
        provider: Provider,
        location: Location | None = None,
        *,
        rrule: str = WEEKDAYS,
        hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(12)),
        slot_minutes: int = 15,
        valid_from: dt.date = dt.date(2026, 1, 1),
        valid_until: dt.date | None = None,
    ) -> Schedule:
        schedule = Schedule.objects.create(
            clinic=provider.clinic, provider=provider, location=location or self.northside
        )
        ScheduleTemplate.objects.create(
            schedule=schedule,
            rrule=rrule,
            start_time=hours[0],
            end_time=hours[1],
            valid_from=valid_from,
            valid_until=valid_until,
            slot_minutes=slot_minutes,
        )
        return schedule

    def book(
        self,
        schedule: Schedule,
        appointment_type: AppointmentType,
        start: dt.datetime,
        *,
        status: AppointmentStatus = AppointmentStatus.BOOKED,
        overbook: bool = False,
        minutes: int | None = None,
    ) -> Appointment:
        end = start + dt.timedelta(minutes=minutes or appointment_type.duration_minutes)
        return Appointment.objects.create(
            clinic=schedule.clinic,
            patient=self.patient,
            schedule=schedule,
            provider=schedule.provider,
            appointment_type=appointment_type,
            start=start,
            end=end,
            busy_start=start - dt.timedelta(minutes=appointment_type.buffer_before_minutes),
            busy_end=end + dt.timedelta(minutes=appointment_type.buffer_after_minutes),
            status=status,
            is_overbook=overbook,
            overbook_reason="Squeezed in by the supervisor" if overbook else "",
            created_at=MONDAY_MORNING,
            updated_at=MONDAY_MORNING,
        )

    def block(
        self,
        schedule: Schedule,
        kind: BlockKind,
        start: dt.datetime,
        end: dt.datetime,
        *,
        types: Sequence[AppointmentType] = (),
        release_days_before: int | None = None,
        reason: str = "",
    ) -> Block:
        block = Block.objects.create(
            schedule=schedule,
            kind=kind,
            start=start,
            end=end,
            release_days_before=release_days_before,
            reason=reason,
        )
        block.appointment_types.set(types)
        return block


@pytest.fixture
def desk(personas: Personas) -> Desk:
    clinic = personas.clinic
    northside = Location.objects.create(clinic=clinic, name="Northside")
    lee = Provider.objects.create(
        clinic=clinic, given_name="Mei", family_name="Lee", credentials="MD", specialty="Family"
    )

    def kind(name: str, minutes: int) -> AppointmentType:
        return AppointmentType.objects.create(clinic=clinic, name=name, duration_minutes=minutes)

    desk = Desk(
        clinic=clinic,
        patient=make_patient(clinic),
        northside=northside,
        lee=lee,
        lee_north=Schedule(),
        physical=kind("Annual physical", 30),
        quick=kind("Quick check", 15),
        new_patient=kind("New patient visit", 45),
    )
    desk.lee_north = desk.schedule(lee)
    return desk


def find(
    desk: Desk,
    appointment_type: AppointmentType,
    *,
    schedules: Iterable[Schedule] | None = None,
    now: dt.datetime = MONDAY_MORNING,
    days: int = 14,
    limit: int = 10,
    preferences: SlotPreferences | None = None,
) -> list[FreeSlot]:
    return free_slots(
        appointment_type=appointment_type,
        schedules=schedules if schedules is not None else [desk.lee_north],
        start=now,
        end=now + dt.timedelta(days=days),
        now=now,
        preferences=preferences,
        limit=limit,
    )


def local_starts(slots: Sequence[FreeSlot]) -> list[str]:
    return [f"{slot.start.astimezone(NY):%a %H:%M}" for slot in slots]


def check(
    desk: Desk,
    appointment_type: AppointmentType,
    start: dt.datetime,
    *,
    schedule: Schedule | None = None,
    now: dt.datetime = MONDAY_MORNING,
    ignore: int | None = None,
) -> str | None:
    return slot_is_bookable(
        appointment_type=appointment_type,
        schedule=schedule or desk.lee_north,
        start=start,
        now=now,
        ignore_appointment_id=ignore,
    )


# --- Sessions ---------------------------------------------------------------------------------


def test_it_builds_sessions_from_the_weekly_rule_in_local_time(desk: Desk) -> None:
    sessions = template_sessions(schedule=desk.lee_north, day_from=FRI, day_to=FRI + 3 * DAY)

    assert [
        (s.day, s.start.astimezone(NY).time(), s.end.astimezone(NY).time()) for s in sessions
    ] == [
        (FRI, dt.time(9), dt.time(12)),
        (FRI + 3 * DAY, dt.time(9), dt.time(12)),
    ]
    assert all(s.start.tzinfo == dt.UTC for s in sessions)
    assert [f"{t.astimezone(NY):%H:%M}" for t in sessions[0].slot_starts()[:3]] == [
        "09:00",
        "09:15",
        "09:30",
    ]
    assert len(sessions[0].slot_starts()) == 12


@pytest.mark.parametrize(
    ("before", "after", "utc_before", "utc_after"),
    [
        # Spring forward on Sunday 2026-03-08: 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
        (dt.date(2026, 3, 6), dt.date(2026, 3, 9), 14, 13),
        # Fall back on Sunday 2026-11-01.
        (dt.date(2026, 10, 30), dt.date(2026, 11, 2), 13, 14),
    ],
)
def test_a_session_keeps_its_local_hours_across_a_daylight_saving_change(
    desk: Desk, before: dt.date, after: dt.date, utc_before: int, utc_after: int
) -> None:
    sessions = template_sessions(schedule=desk.lee_north, day_from=before, day_to=after)

    assert [s.day for s in sessions] == [before, after]
    assert [s.start.astimezone(NY).time() for s in sessions] == [dt.time(9), dt.time(9)]
    assert [s.end.astimezone(NY).time() for s in sessions] == [dt.time(12), dt.time(12)]
    assert [s.start.hour for s in sessions] == [utc_before, utc_after]
    assert [(s.end - s.start) for s in sessions] == [dt.timedelta(hours=3)] * 2


def test_slots_after_the_spring_change_start_at_nine_local(desk: Desk) -> None:
    friday_evening = at(dt.date(2026, 3, 6), 18)

    slots = find(desk, desk.quick, now=friday_evening, limit=1)

    assert [slot.start.astimezone(NY) for slot in slots] == [at(dt.date(2026, 3, 9), 9)]
    assert slots[0].start.hour == 13  # UTC, daylight time


def test_it_respects_a_templates_valid_dates(desk: Desk) -> None:
    afternoons = desk.schedule(
        desk.provider("Ana", "Diaz"),
        hours=(dt.time(13), dt.time(15)),
        valid_from=TUE,
        valid_until=THU,
    )

    sessions = template_sessions(schedule=afternoons, day_from=MON, day_to=FRI + 7 * DAY)

    assert [s.day for s in sessions] == [TUE, WED, THU]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
        "FREQ=DAILY;INTERVAL=3",
        "RRULE:FREQ=WEEKLY;BYDAY=TU",
        "FREQ=MONTHLY;BYDAY=1TU,-1FR",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260318T235959Z",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=400",
    ],
)
def test_an_old_template_occurs_on_the_same_days_as_its_rule_says(desk: Desk, rule: str) -> None:
    # Templates valid for years are expanded from a later start (for speed); the days must be
    # exactly those the rule gives when walked from its real start.
    valid_from = dt.date(2019, 5, 7)
    schedule = desk.schedule(desk.provider("Ana", "Diaz"), rrule=rule, valid_from=valid_from)
    window = (dt.date(2026, 2, 20), dt.date(2026, 5, 10))

    sessions = template_sessions(schedule=schedule, day_from=window[0], day_to=window[1])

    walked = rrulestr(rule, dtstart=dt.datetime.combine(valid_from, dt.time(9), tzinfo=NY))
    expected = [
        when.date() for when in walked.between(at(window[0], 0), at(window[1], 23, 59), inc=True)
    ]
    assert [s.day for s in sessions] == expected
    assert expected  # the rule does occur in the window


def test_a_clinic_holiday_has_no_sessions_and_no_slots(desk: Desk) -> None:
    ClinicHoliday.objects.create(clinic=desk.clinic, date=MON, name="Founders' Day")

    sessions = template_sessions(schedule=desk.lee_north, day_from=MON, day_to=TUE)
    slots = find(desk, desk.quick, limit=1)

    assert [s.day for s in sessions] == [TUE]
    assert local_starts(slots) == ["Tue 09:00"]
    assert check(desk, desk.quick, at(MON, 9)) == "The clinic is closed for Founders' Day"


# --- Free slots -------------------------------------------------------------------------------


def test_it_offers_the_first_free_slot_after_a_booked_one(desk: Desk) -> None:
    desk.book(desk.lee_north, desk.physical, at(MON, 9))

    slots = find(desk, desk.physical, limit=3)

    assert local_starts(slots) == ["Mon 09:30", "Mon 09:45", "Mon 10:00"]
    assert slots[0].end - slots[0].start == dt.timedelta(minutes=30)
    assert (slots[0].provider, slots[0].location, slots[0].schedule) == (
        desk.lee,
        desk.northside,
        desk.lee_north,
    )


def test_it_offers_starts_on_the_template_grid_only(desk: Desk) -> None:
    twenty = desk.schedule(desk.provider("Ana", "Diaz"), slot_minutes=20)

    slots = find(desk, desk.quick, schedules=[twenty], now=at(MON, 9, 7), limit=3)

    assert local_starts(slots) == ["Mon 09:20", "Mon 09:40", "Mon 10:00"]


def test_overlapping_templates_offer_each_start_once_on_either_grid(desk: Desk) -> None:
    ScheduleTemplate.objects.create(
        schedule=desk.lee_north,
        rrule=WEEKDAYS,
        start_time=dt.time(10),
        end_time=dt.time(11),
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=20,
    )

    slots = find(desk, desk.quick, now=at(MON, 9, 50), limit=6)

    assert local_starts(slots) == [
        "Mon 10:00",
        "Mon 10:15",
        "Mon 10:20",
        "Mon 10:30",
        "Mon 10:40",
        "Mon 10:45",
    ]
    assert check(desk, desk.quick, at(MON, 10, 20)) is None


def test_a_30_minute_booking_in_a_15_minute_grid_blocks_both_halves(desk: Desk) -> None:
    desk.book(desk.lee_north, desk.physical, at(MON, 10))

    slots = find(desk, desk.quick, now=at(MON, 9, 30), limit=4)

    assert local_starts(slots) == ["Mon 09:30", "Mon 09:45", "Mon 10:30", "Mon 10:45"]
    assert check(desk, desk.quick, at(MON, 10, 15)) == "Dr Lee already has an appointment then"


def test_the_visit_and_its_buffers_fit_inside_the_session(desk: Desk) -> None:
    desk.quick.buffer_before_minutes = 10
    desk.quick.buffer_after_minutes = 5
    desk.quick.save()

    slots = find(desk, desk.quick, days=1, limit=50)

    starts = local_starts(slots)
    assert starts[0] == "Mon 09:15"  # 09:00 would need the room from 08:50
    assert "Mon 11:30" in starts
    assert "Mon 11:45" not in starts  # the clean-up would run to 12:05
    assert check(desk, desk.quick, at(MON, 11, 45)) == (
        "A 15-minute Quick check at 11:45 does not fit in Dr Lee's session at Northside"
        " (09:00 to 12:00)"
    )


def test_the_types_buffers_keep_clear_of_other_bookings(desk: Desk) -> None:
    desk.quick.buffer_before_minutes = 10
    desk.quick.buffer_after_minutes = 5
    desk.quick.save()
    desk.book(desk.lee_north, desk.physical, at(MON, 10))  # busy 10:00-10:30

    starts = local_starts(find(desk, desk.quick, days=1, limit=50))

    assert "Mon 09:30" in starts  # busy 09:20-09:50
    assert "Mon 09:45" not in starts  # its clean-up would run into 10:00
    assert "Mon 10:30" not in starts  # its preparation would start at 10:20
    assert "Mon 10:45" in starts


def test_an_existing_bookings_own_buffers_hold_the_provider(desk: Desk) -> None:
    desk.physical.buffer_after_minutes = 15
    desk.physical.save()
    desk.book(desk.lee_north, desk.physical, at(MON, 9))  # busy 09:00-09:45

    assert local_starts(find(desk, desk.quick, limit=1)) == ["Mon 09:45"]


def test_cancelled_and_overbooked_appointments_do_not_hold_time(desk: Desk) -> None:
    desk.book(desk.lee_north, desk.quick, at(MON, 9), status=AppointmentStatus.CANCELLED)
    desk.book(desk.lee_north, desk.quick, at(MON, 9, 15), status=AppointmentStatus.NOSHOW)
    desk.book(desk.lee_north, desk.quick, at(MON, 9, 30))
    desk.book(desk.lee_north, desk.quick, at(MON, 9, 30), overbook=True)

    assert local_starts(find(desk, desk.quick, limit=3)) == ["Mon 09:00", "Mon 09:15", "Mon 09:45"]


def test_a_booking_at_another_location_holds_the_provider_here_too(desk: Desk) -> None:
    southside = Location.objects.create(clinic=desk.clinic, name="Southside")
    lee_south = desk.schedule(desk.lee, southside)
    desk.book(lee_south, desk.physical, at(MON, 9))

    assert local_starts(find(desk, desk.quick, limit=1)) == ["Mon 09:30"]


def test_it_skips_leave_and_adhoc_blocks(desk: Desk) -> None:
    desk.block(desk.lee_north, BlockKind.ADHOC, at(MON, 9), at(MON, 10), reason="Staff meeting")
    desk.block(desk.lee_north, BlockKind.LEAVE, at(MON, 10, 30), at(TUE, 23, 59))

    slots = find(desk, desk.quick, limit=3)

    assert local_starts(slots) == ["Mon 10:00", "Mon 10:15", "Wed 09:00"]
    assert (
        check(desk, desk.quick, at(MON, 9, 15)) == "Dr Lee's time is blocked then (Staff meeting)"
    )
    assert check(desk, desk.quick, at(TUE, 11)) == "Dr Lee is on leave then"


def test_leave_entered_at_one_location_applies_at_every_location(desk: Desk) -> None:
    southside = Location.objects.create(clinic=desk.clinic, name="Southside")
    lee_south = desk.schedule(desk.lee, southside)
    desk.block(lee_south, BlockKind.LEAVE, at(MON, 0), at(TUE, 0))
    desk.block(lee_south, BlockKind.ADHOC, at(TUE, 0), at(WED, 0))

    # Leave is the provider's; an ad-hoc block belongs to its own schedule.
    assert local_starts(find(desk, desk.quick, limit=1)) == ["Tue 09:00"]


def test_reserved_time_is_held_for_its_types_until_it_is_released(desk: Desk) -> None:
    desk.block(
        desk.lee_north,
        BlockKind.RESERVED,
        at(THU, 9),
        at(THU, 10),
        types=[desk.new_patient],
        release_days_before=2,
    )
    thursday = SlotPreferences(weekdays=frozenset({THU.weekday()}))

    held = find(desk, desk.quick, preferences=thursday, limit=1)
    for_its_type = find(desk, desk.new_patient, preferences=thursday, limit=1)
    released = find(desk, desk.quick, preferences=thursday, now=at(TUE, 8), limit=1)

    assert local_starts(held) == ["Thu 10:00"]
    assert local_starts(for_its_type) == ["Thu 09:00"]
    assert local_starts(released) == ["Thu 09:00"]
    assert check(desk, desk.quick, at(THU, 9, 30)) == (
        "That time is held for New patient visits until Mar 3"
    )
    assert check(desk, desk.new_patient, at(THU, 9)) is None
    assert check(desk, desk.quick, at(THU, 9, 30), now=at(TUE, 8)) is None


def test_reserved_time_without_a_release_stays_held(desk: Desk) -> None:
    desk.block(desk.lee_north, BlockKind.RESERVED, at(MON, 9), at(MON, 12), types=[desk.physical])

    assert local_starts(find(desk, desk.quick, now=at(MON, 8), limit=1)) == ["Tue 09:00"]
    assert check(desk, desk.quick, at(MON, 11)) == "That time is held for Annual physicals"


def test_it_respects_the_types_daily_limit_per_provider(desk: Desk) -> None:
    desk.physical.daily_limit = 2
    desk.physical.save()
    desk.book(desk.lee_north, desk.physical, at(MON, 9))
    desk.book(desk.lee_north, desk.physical, at(MON, 11), overbook=True)

    assert local_starts(find(desk, desk.physical, limit=1)) == ["Tue 09:00"]
    assert local_starts(find(desk, desk.quick, limit=1)) == ["Mon 09:30"]  # other types may
    assert (
        check(desk, desk.physical, at(MON, 10)) == "Dr Lee already sees 2 Annual physicals that day"
    )


def test_only_providers_allowed_to_see_the_type_are_offered(desk: Desk) -> None:
    diaz = desk.provider("Ana", "Diaz", credentials="NP")
    diaz_north = desk.schedule(diaz)
    everyone = [desk.lee_north, diaz_north]

    anyone = find(desk, desk.quick, schedules=everyone, limit=3)
    desk.new_patient.allowed_providers.set([desk.lee])
    lee_only = find(desk, desk.new_patient, schedules=everyone, limit=3)

    # Same time: ordered by provider (Diaz before Lee).
    assert [(f"{s.start.astimezone(NY):%H:%M}", s.provider) for s in anyone] == [
        ("09:00", diaz),
        ("09:00", desk.lee),
        ("09:15", diaz),
    ]
    assert {slot.provider for slot in lee_only} == {desk.lee}
    assert check(desk, desk.new_patient, at(MON, 9), schedule=diaz_north) == (
        "Ana Diaz does not see New patient visits"
    )


def test_schedules_of_another_clinic_or_inactive_ones_are_never_offered(
    desk: Desk, personas: Personas
) -> None:
    hilltop = Location.objects.create(clinic=personas.other_clinic, name="Hilltop")
    stranger = Provider.objects.create(
        clinic=personas.other_clinic, given_name="Sam", family_name="Oak", specialty="Family"
    )
    foreign = desk.schedule(stranger, hilltop)
    resting = desk.schedule(desk.provider("Ana", "Diaz"))
    resting.is_active = False
    resting.save()

    slots = find(desk, desk.quick, schedules=[foreign, resting], limit=3)

    assert slots == []
    assert check(desk, desk.quick, at(MON, 9), schedule=resting) == (
        "Dr Diaz does not take bookings at Northside"
    )


def test_it_never_offers_a_time_in_the_past(desk: Desk) -> None:
    late_morning = at(MON, 10, 5)

    slots = free_slots(
        appointment_type=desk.quick,
        schedules=[desk.lee_north],
        start=at(MON, 0),
        end=at(MON, 23),
        now=late_morning,
        limit=1,
    )

    assert local_starts(slots) == ["Mon 10:15"]
    assert check(desk, desk.quick, at(MON, 10), now=late_morning) == "That time is in the past"


def test_it_matches_the_patients_preferences(desk: Desk) -> None:
    afternoons = desk.schedule(desk.provider("Ana", "Diaz"), hours=(dt.time(13), dt.time(17)))
    both = [desk.lee_north, afternoons]

    def first(preferences: SlotPreferences) -> list[str]:
        return local_starts(
            find(desk, desk.quick, schedules=both, preferences=preferences, limit=2)
        )

    assert first(SlotPreferences(time_of_day="afternoon")) == ["Mon 13:00", "Mon 13:15"]
    assert first(SlotPreferences(time_of_day="morning", weekdays=frozenset({2, 4}))) == [
        "Wed 09:00",
        "Wed 09:15",
    ]
    assert first(SlotPreferences(earliest=dt.time(11, 30), latest=dt.time(13))) == [
        "Mon 11:30",
        "Mon 11:45",
    ]
    assert first(SlotPreferences(earliest=dt.time(16, 30), weekdays=frozenset({1}))) == [
        "Tue 16:30",
        "Tue 16:45",
    ]


def test_a_fully_booked_provider_has_no_slots_in_the_horizon(desk: Desk) -> None:
    # One 3-hour appointment a morning for four weeks, Monday to Friday.
    day = MON
    while day < MON + 28 * DAY:
        if day.weekday() < 5:
            desk.book(desk.lee_north, desk.physical, at(day, 9), minutes=180)
        day += DAY

    assert find(desk, desk.quick, days=28) == []


def test_it_reads_each_table_once_per_chunk_not_per_day_or_schedule(desk: Desk) -> None:
    def queries(count: int) -> int:
        schedules = [desk.lee_north] + [
            desk.schedule(desk.provider("Ana", f"Diaz{n}")) for n in range(count - 1)
        ]
        for schedule in schedules:  # away all month: the search must read the whole horizon
            desk.block(schedule, BlockKind.LEAVE, at(MON, 0), at(MON + 40 * DAY, 0))
        fetched = list(Schedule.objects.filter(pk__in=[s.pk for s in schedules]))
        with CaptureQueriesContext(connection) as captured:
            slots = find(desk, desk.quick, schedules=fetched, days=30)
        assert slots == []
        return len(captured)

    # Two to set up (the schedules with their templates, holidays), then appointments and
    # blocks once per chunk. Chunks double from a first one sized to the number of schedules:
    # one schedule reads 7 + 14 + 9 days, six read 40 h, 80 h, ... .
    assert queries(1) == 2 + 2 * 3
    assert queries(6) == 2 + 2 * 5


def test_any_provider_is_a_queryset_of_the_clinics_schedules(desk: Desk) -> None:
    diaz = desk.provider("Ana", "Diaz")
    diaz_north = desk.schedule(diaz)
    desk.schedule(
        desk.provider("Paul", "Resting"), Location.objects.create(clinic=desk.clinic, name="Annex")
    )
    Provider.objects.filter(family_name="Resting").update(is_active=False)
    desk.book(diaz_north, desk.physical, at(MON, 9))
    desk.new_patient.allowed_providers.set([diaz])

    with CaptureQueriesContext(connection) as captured:
        slots = free_slots(
            appointment_type=desk.quick,
            schedules=Schedule.objects.filter(clinic=desk.clinic),
            start=MONDAY_MORNING,
            end=MONDAY_MORNING + 7 * DAY,
            now=MONDAY_MORNING,
            limit=3,
        )
        names = [(f"{s.start.astimezone(NY):%H:%M}", s.provider.family_name) for s in slots]
    new_patients = free_slots(
        appointment_type=desk.new_patient,
        schedules=Schedule.objects.all(),
        start=MONDAY_MORNING,
        end=MONDAY_MORNING + 7 * DAY,
        now=MONDAY_MORNING,
    )

    assert names == [("09:00", "Lee"), ("09:15", "Lee"), ("09:30", "Diaz")]
    assert find(desk, desk.quick, schedules=Schedule.objects.none()) == []
    assert find(desk, desk.quick, schedules=[]) == []
    # Schedules with templates, holidays, appointments, blocks, the results' schedules.
    assert len(captured) == 5
    assert {slot.provider for slot in new_patients} == {diaz}


def test_every_offered_slot_is_bookable(desk: Desk) -> None:
    diaz = desk.schedule(desk.provider("Ana", "Diaz"), slot_minutes=10)
    desk.physical.buffer_before_minutes = 5
    desk.physical.daily_limit = 3
    desk.physical.save()
    desk.book(desk.lee_north, desk.physical, at(MON, 9, 15))
    desk.book(diaz, desk.new_patient, at(MON, 10, 10))
    desk.block(desk.lee_north, BlockKind.ADHOC, at(TUE, 10), at(TUE, 11))
    desk.block(diaz, BlockKind.RESERVED, at(WED, 9), at(WED, 11), types=[desk.new_patient])

    slots = find(desk, desk.physical, schedules=[desk.lee_north, diaz], days=14, limit=200)

    assert len(slots) == 200
    assert slots == sorted(slots, key=lambda s: (s.start, s.provider.family_name))
    for slot in slots:
        assert check(desk, desk.physical, slot.start, schedule=slot.schedule) is None, slot


# --- The reasons, in words --------------------------------------------------------------------


def test_it_says_when_the_provider_does_not_work_then(desk: Desk) -> None:
    saturday = MON + 5 * DAY

    assert check(desk, desk.quick, at(saturday, 10)) == (
        "Dr Lee does not work at that time at Northside"
    )
    assert check(desk, desk.quick, at(MON, 14)) == "Dr Lee does not work at that time at Northside"


def test_it_suggests_grid_times_for_a_time_off_the_grid(desk: Desk) -> None:
    assert check(desk, desk.quick, at(MON, 10, 5)) == (
        "Dr Lee's appointments at Northside start every 15 minutes: try 10:00 or 10:15"
    )


def test_a_nurse_practitioner_is_named_in_full(desk: Desk) -> None:
    park = desk.schedule(desk.provider("Nina", "Park", credentials="NP"))

    assert check(desk, desk.quick, at(MON, 14), schedule=park) == (
        "Nina Park does not work at that time at Northside"
    )


def test_a_moved_appointment_does_not_stand_in_its_own_way(desk: Desk) -> None:
    desk.physical.daily_limit = 1
    desk.physical.save()
    booked = desk.book(desk.lee_north, desk.physical, at(MON, 9))

    assert check(desk, desk.physical, at(MON, 9, 15)) == "Dr Lee already has an appointment then"
    assert check(desk, desk.physical, at(MON, 9, 15), ignore=booked.pk) is None


def test_a_free_time_is_bookable(desk: Desk) -> None:
    assert check(desk, desk.physical, at(MON, 11, 30)) is None
