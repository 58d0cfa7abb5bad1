"""The schedule set-up pages: appointment types, weekly hours, blocks and leave, holidays."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
import time_machine
from dateutil import rrule as dateutil_rrule  # type: ignore[import-untyped, unused-ignore]
from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import PASSWORD, Personas, login_client
from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.rrule import weekly_rule
from frontdesk.patients.models import Patient
from frontdesk.scheduling import availability, services, setup
from frontdesk.scheduling.availability import slot_is_bookable
from frontdesk.scheduling.models import (
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York
NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _frozen(settings: Any) -> Iterator[None]:
    settings.CLINIC_TIME_ZONE = "America/New_York"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.admin)


@pytest.fixture
def southside(personas: Personas) -> Location:
    return Location.objects.create(clinic=personas.clinic, name="Southside")


@pytest.fixture
def new_patient_visit(personas: Personas) -> AppointmentType:
    return AppointmentType.objects.create(
        clinic=personas.clinic, name="New patient visit", duration_minutes=30, is_new_patient=True
    )


def _events(object_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type=object_type).order_by("seq"))


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# --- Access and navigation ------------------------------------------------------------------


def test_administrators_and_supervisors_reach_the_set_up_page_and_others_are_refused(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    for user in (personas.admin, personas.supervisor):
        page = client_for(user).get("/schedule/setup/")
        assert page.status_code == 200
        assert 'href="/schedule/setup/" aria-current="page">Set-up' in page.content.decode()
    for user in (personas.front_desk, personas.nurse, personas.physician, personas.billing):
        assert client_for(user).get("/schedule/setup/").status_code == 403
        home = client_for(user).get("/").content.decode()
        assert "/schedule/setup/" not in home


def test_an_administrator_of_another_clinic_cannot_change_this_clinics_set_up(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    stranger = staff_create(
        clinic=personas.other_clinic, username="oscar", password=PASSWORD, role=Role.ADMIN
    )
    block = Block.objects.create(
        schedule=schedule,
        kind=BlockKind.ADHOC,
        start=NOW + dt.timedelta(days=1),
        end=NOW + dt.timedelta(days=1, hours=1),
    )
    holiday = ClinicHoliday.objects.create(
        clinic=personas.clinic, date=dt.date(2026, 12, 25), name="Christmas Day"
    )
    template = schedule.templates.get()
    client = client_for(stranger)
    assert client.get(f"/schedule/setup/types/{follow_up.pk}/").status_code == 404
    assert client.get(f"/schedule/setup/hours/{template.pk}/").status_code == 404
    assert client.post(f"/schedule/setup/types/{follow_up.pk}/delete/").status_code == 404
    assert client.post(f"/schedule/setup/blocks/{block.pk}/delete/").status_code == 404
    assert client.post(f"/schedule/setup/holidays/{holiday.pk}/delete/").status_code == 404
    assert client.post(f"/schedule/setup/hours/{template.pk}/delete/").status_code == 404
    listed = client.get("/schedule/setup/types/").content.decode()
    assert "Follow-up visit" not in listed
    assert AppointmentType.objects.filter(pk=follow_up.pk).exists()
    assert Block.objects.filter(pk=block.pk).exists()
    assert ClinicHoliday.objects.filter(pk=holiday.pk).exists()


# --- Appointment types ----------------------------------------------------------------------


def _type_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Annual physical",
        "duration_minutes": "40",
        "patient_kind": "follow_up",
        "buffer_before_minutes": "5",
        "buffer_after_minutes": "10",
        "grace_minutes": "15",
        "daily_limit": "4",
        "follow_up_interval_days": "365",
        "colour": "#AA3300",
        "telehealth": "",
        "preparation": "Fast for 8 hours before the visit.",
    }
    data.update(overrides)
    return data


def test_an_administrator_adds_an_appointment_type_with_buffers_providers_and_limits(
    personas: Personas, schedule: Schedule, admin: Client
) -> None:
    other = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name="Ruiz", specialty="Family"
    )
    response = admin.post(
        "/schedule/setup/types/add/",
        _type_form(patient_kind="new", telehealth="on", allowed_providers=[schedule.provider_id]),
        follow=True,
    )
    assert response.status_code == 200
    kind = AppointmentType.objects.get(name="Annual physical")
    assert (kind.duration_minutes, kind.buffer_before_minutes, kind.buffer_after_minutes) == (
        40,
        5,
        10,
    )
    assert (kind.grace_minutes, kind.daily_limit, kind.follow_up_interval_days) == (15, 4, 365)
    assert kind.is_new_patient and kind.telehealth
    assert kind.colour == "#aa3300"
    assert kind.preparation == "Fast for 8 hours before the visit."
    assert list(kind.allowed_providers.all()) == [schedule.provider]
    assert other not in kind.allowed_providers.all()
    (event,) = _events("appointment_type")
    assert event.object_id == str(kind.pk) and event.patient_ids == []
    assert event.actor_username == "adam"

    admin.post(
        f"/schedule/setup/types/{kind.pk}/",
        _type_form(duration_minutes="45", allowed_providers=[]),
    )
    kind.refresh_from_db()
    assert kind.duration_minutes == 45 and not kind.is_new_patient
    assert not kind.allowed_providers.exists()  # none ticked: every provider
    assert "duration_minutes" in _events("appointment_type")[-1].detail["changed"]


def test_a_bad_appointment_type_is_refused_in_plain_words_and_what_was_typed_stays(
    personas: Personas, follow_up: AppointmentType, admin: Client
) -> None:
    response = admin.post(
        "/schedule/setup/types/add/",
        _type_form(name="follow-up VISIT", duration_minutes="2", colour="red"),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Type a whole number of minutes from 5 to 480." in html
    assert "Choose a colour, or type it as # and six hex digits." in html
    assert "Fast for 8 hours before the visit." in html  # nothing typed is lost

    response = admin.post("/schedule/setup/types/add/", _type_form(name="follow-up VISIT"))
    assert response.status_code == 400
    assert "There is already an appointment type with that name." in response.content.decode()
    assert AppointmentType.objects.count() == 1


def test_a_type_in_use_cannot_be_deleted_but_an_unused_one_can(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    new_patient_visit: AppointmentType,
    admin: Client,
) -> None:
    services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=follow_up,
        start=dt.datetime(2026, 11, 24, 10, 0, tzinfo=NY),
    )
    refused = admin.post(f"/schedule/setup/types/{follow_up.pk}/delete/", follow=True)
    assert "Follow-up visit cannot be deleted: 1 appointment(s) use it" in _messages(refused)
    assert AppointmentType.objects.filter(pk=follow_up.pk).exists()

    deleted = admin.post(f"/schedule/setup/types/{new_patient_visit.pk}/delete/", follow=True)
    assert "Deleted the appointment type New patient visit." in _messages(deleted)
    assert not AppointmentType.objects.filter(pk=new_patient_visit.pk).exists()
    assert _events("appointment_type")[-1].detail == {"deleted": "New patient visit"}


def test_a_type_held_by_an_upcoming_reserved_block_cannot_be_deleted(
    schedule: Schedule, new_patient_visit: AppointmentType
) -> None:
    setup.block_create(
        context=SYSTEM_CONTEXT,
        data=setup.BlockInput(
            schedule=schedule,
            kind=BlockKind.RESERVED,
            day=dt.date(2026, 11, 24),
            start_time=dt.time(9),
            end_time=dt.time(11),
            appointment_types=[new_patient_visit],
        ),
    )
    with pytest.raises(setup.SetupRefusedError, match="1 reserved block"):
        setup.appointment_type_delete(context=SYSTEM_CONTEXT, appointment_type=new_patient_visit)


# --- Weekly hours ---------------------------------------------------------------------------


def _hours_form(schedule: Schedule, location: Location, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider": schedule.provider_id,
        "location": location.pk,
        "weekdays": ["5"],
        "every_weeks": "1",
        "rrule": "",
        "start_time": "09:00",
        "end_time": "13:00",
        "valid_from": "2026-12-01",
        "valid_until": "",
        "slot_minutes": "20",
        "overbook_cap": "1",
    }
    data.update(overrides)
    return data


def test_weekday_boxes_build_the_rule_and_open_a_schedule_at_a_new_location(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=["5", "6"], every_weeks="2"),
        follow=True,
    )
    assert "A new schedule was opened for Mei Lee, MD at Southside." in _messages(response)
    template = ScheduleTemplate.objects.get(schedule__location=southside)
    assert template.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU"
    assert (template.start_time, template.end_time) == (dt.time(9), dt.time(13))
    assert (template.slot_minutes, template.overbook_cap) == (20, 1)
    assert southside in schedule.provider.locations.all()
    assert (
        "Saturdays and Sundays, every 2 weeks"
        in admin.get("/schedule/setup/hours/").content.decode()
    )
    (event,) = _events("schedule_template")
    assert event.detail["rrule"] == template.rrule and event.patient_ids == []


def test_an_advanced_rule_is_checked_by_dateutil_and_refused_in_plain_words(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    bad = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=[], rrule="FREQ=WEEKLY;BYDAY=XX"),
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "That rule is not valid" in html and "FREQ=WEEKLY;BYDAY=XX" in html
    nonsense = admin.post(
        "/schedule/setup/hours/add/", _hours_form(schedule, southside, weekdays=[], rrule="every")
    )
    assert "That is not a rule Frontdesk can read." in nonsense.content.decode()
    both = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, rrule="FREQ=MONTHLY;BYDAY=1SA"),
    )
    assert "Tick days or type a rule, not both." in both.content.decode()
    good = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=[], rrule="RRULE:FREQ=MONTHLY;BYDAY=1SA"),
    )
    assert good.status_code == 302
    assert ScheduleTemplate.objects.get(schedule__location=southside).rrule == (
        "FREQ=MONTHLY;BYDAY=1SA"
    )


def test_hours_ending_before_they_start_are_refused(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, start_time="14:00", end_time="9:30 AM"),
    )
    assert response.status_code == 400
    assert "The end time must be after the start time." in response.content.decode()
    assert 'value="14:00"' in response.content.decode()
    with pytest.raises(setup.SetupRefusedError, match="end time must be after"):
        setup.template_save(
            context=SYSTEM_CONTEXT,
            clinic=schedule.clinic,
            template=None,
            data=setup.TemplateInput(
                provider=schedule.provider,
                location=southside,
                rrule="FREQ=WEEKLY;BYDAY=SA",
                start_time=dt.time(12),
                end_time=dt.time(12),
                valid_from=dt.date(2026, 12, 1),
                valid_until=None,
                slot_minutes=15,
                overbook_cap=0,
            ),
        )


def test_hours_overlapping_the_same_providers_hours_at_another_location_are_refused(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    # The fixture's provider works Monday to Friday 09:00-17:00 at Northside.
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=["1"], start_time="16:00", end_time="18:00"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Mei Lee, MD already works 09:00 to 17:00 at Northside" in html
    assert "Tue Dec 1, 2026" in html
    assert not Schedule.objects.filter(location=southside).exists()
    # Back to back is not an overlap.
    assert (
        admin.post(
            "/schedule/setup/hours/add/",
            _hours_form(schedule, southside, weekdays=["1"], start_time="17:00", end_time="19:00"),
        ).status_code
        == 302
    )


def test_hours_that_only_meet_after_the_other_template_has_ended_are_accepted(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    ScheduleTemplate.objects.filter(schedule=schedule).update(valid_until=dt.date(2026, 12, 31))
    late = _hours_form(schedule, southside, weekdays=["0"], valid_from="2027-01-01")
    assert admin.post("/schedule/setup/hours/add/", late).status_code == 302
    early = _hours_form(schedule, southside, weekdays=["1"], valid_from="2026-12-01")
    assert admin.post("/schedule/setup/hours/add/", early).status_code == 400


def test_fortnightly_hours_on_alternate_weeks_do_not_clash(
    personas: Personas, southside: Location
) -> None:
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name="Ruiz", specialty="Physio"
    )
    north = Location.objects.create(clinic=personas.clinic, name="North")

    def save(location: Location, first: dt.date) -> None:
        setup.template_save(
            context=SYSTEM_CONTEXT,
            clinic=personas.clinic,
            template=None,
            data=setup.TemplateInput(
                provider=provider,
                location=location,
                rrule=weekly_rule([0], interval=2),
                start_time=dt.time(9),
                end_time=dt.time(12),
                valid_from=first,
                valid_until=None,
                slot_minutes=15,
                overbook_cap=0,
            ),
        )

    save(north, dt.date(2026, 11, 30))
    save(southside, dt.date(2026, 12, 7))  # the other Mondays
    with pytest.raises(setup.SetupRefusedError, match="both would apply on Mon Dec 14, 2026"):
        save(southside, dt.date(2026, 12, 14))
    assert ScheduleTemplate.objects.filter(schedule__provider=provider).count() == 2


def test_editing_hours_keeps_the_checkboxes_and_does_not_clash_with_itself(
    schedule: Schedule, admin: Client
) -> None:
    template = schedule.templates.get()
    page = admin.get(f"/schedule/setup/hours/{template.pk}/").content.decode()
    assert 'value="4" id="id_weekdays_4" checked' in page  # Friday, from the weekly rule
    assert 'value="5" id="id_weekdays_5" checked' not in page
    response = admin.post(
        f"/schedule/setup/hours/{template.pk}/",
        _hours_form(
            schedule,
            schedule.location,
            weekdays=["0", "1", "2", "3", "4"],
            start_time="08:00",
            end_time="16:00",
            valid_from="2026-01-01",
        ),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert template.start_time == dt.time(8)
    assert _events("schedule_template")[-1].action == "update"


# --- Blocks and leave -----------------------------------------------------------------------


def _block_form(schedule: Schedule, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "reserved",
        "schedule": schedule.pk,
        "day": "2026-11-24",
        "start_time": "09:00",
        "end_time": "11:00",
        "repeat_until": "",
        "release_days_before": "",
        "reason": "New patients only",
    }
    data.update(overrides)
    return data


def test_time_reserved_for_new_patients_repeats_weekly_and_the_calendar_honours_it(
    schedule: Schedule,
    follow_up: AppointmentType,
    new_patient_visit: AppointmentType,
    admin: Client,
) -> None:
    response = admin.post(
        "/schedule/setup/blocks/add/",
        _block_form(
            schedule,
            start_time="9",
            end_time="11:00 AM",
            appointment_types=[new_patient_visit.pk],
            repeat_until="2026-12-08",
            release_days_before="1",
        ),
        follow=True,
    )
    assert "Saved 3 block(s)." in _messages(response)
    blocks = list(Block.objects.order_by("start"))
    assert [b.start for b in blocks] == [
        dt.datetime(2026, 11, 24, 9, tzinfo=NY),
        dt.datetime(2026, 12, 1, 9, tzinfo=NY),
        dt.datetime(2026, 12, 8, 9, tzinfo=NY),
    ]
    assert all(b.kind == BlockKind.RESERVED and b.release_days_before == 1 for b in blocks)
    assert list(blocks[0].appointment_types.all()) == [new_patient_visit]
    tuesday = dt.datetime(2026, 12, 8, 9, 30, tzinfo=NY)
    now = dt.datetime(2026, 11, 23, 13, tzinfo=dt.UTC)
    assert (
        slot_is_bookable(appointment_type=follow_up, schedule=schedule, start=tuesday, now=now)
        is not None
    )
    assert (
        slot_is_bookable(
            appointment_type=new_patient_visit, schedule=schedule, start=tuesday, now=now
        )
        is None
    )
    listed = admin.get("/schedule/setup/blocks/").content.decode()
    assert "New patient visit" in listed and "opens to any type 1 day before" in listed
    (event,) = _events("block")
    assert event.detail["blocks"] == [b.pk for b in blocks] and event.patient_ids == []


def test_a_reserved_block_needs_its_types_and_a_block_must_end_after_it_starts(
    schedule: Schedule, admin: Client
) -> None:
    response = admin.post(
        "/schedule/setup/blocks/add/", _block_form(schedule, start_time="11:00", end_time="10:00")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "The block must end after it starts." in html
    assert "Choose the appointment types this time is reserved for." in html
    assert "New patients only" in html
    assert not Block.objects.exists()


def test_a_block_in_the_past_is_refused(schedule: Schedule, admin: Client) -> None:
    response = admin.post(
        "/schedule/setup/blocks/add/",
        _block_form(schedule, kind="adhoc", day="2026-11-20", reason="Staff meeting"),
    )
    assert response.status_code == 400
    assert "Fri Nov 20, 2026 at 09:00 has already passed" in response.content.decode()
    assert not Block.objects.exists()


def test_a_block_at_a_time_the_clocks_skip_is_refused(schedule: Schedule, admin: Client) -> None:
    # New York springs forward at 02:00 on Sunday 14 March 2027: 02:30 never happens.
    response = admin.post(
        "/schedule/setup/blocks/add/",
        _block_form(schedule, kind="adhoc", day="2027-03-14", start_time="02:30", end_time="04:00"),
    )
    assert response.status_code == 400
    assert (
        "02:30 does not exist on Sun Mar 14, 2027: the clocks go forward 60 minutes that night"
        in response.content.decode()
    )
    assert not Block.objects.exists()


def test_a_block_at_a_time_that_happens_twice_uses_the_first_and_says_so(
    schedule: Schedule,
) -> None:
    # New York falls back at 02:00 on Sunday 7 November 2027: 01:30 happens twice.
    blocks, warnings = setup.block_create(
        context=SYSTEM_CONTEXT,
        data=setup.BlockInput(
            schedule=schedule,
            kind=BlockKind.ADHOC,
            day=dt.date(2027, 11, 7),
            start_time=dt.time(1, 30),
            end_time=dt.time(3),
        ),
    )
    assert blocks[0].start == dt.datetime(2027, 11, 7, 5, 30, tzinfo=dt.UTC)  # 01:30 EDT
    assert any("01:30 happens twice on Sun Nov 7, 2027" in w for w in warnings)


def test_a_block_outside_the_providers_hours_is_saved_with_a_warning(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    admin: Client,
) -> None:
    saturday = admin.post(
        "/schedule/setup/blocks/add/",
        _block_form(schedule, kind="adhoc", day="2026-11-28", reason="Cleaning"),
        follow=True,
    )
    assert "has no hours at Northside at that time on Sat Nov 28, 2026" in _messages(saturday)
    services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=follow_up,
        start=dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY),
    )
    booked = admin.post(
        "/schedule/setup/blocks/add/",
        _block_form(schedule, kind="adhoc", day="2026-11-25", reason="Training"),
        follow=True,
    )
    assert "1 appointment(s) are already booked in the blocked time" in _messages(booked)
    assert Block.objects.count() == 2


def test_leave_covers_whole_local_days_at_every_location_and_can_be_deleted(
    personas: Personas,
    schedule: Schedule,
    southside: Location,
    follow_up: AppointmentType,
    admin: Client,
) -> None:
    other_place = Schedule.objects.create(
        clinic=personas.clinic, provider=schedule.provider, location=southside
    )
    ScheduleTemplate.objects.create(
        schedule=other_place,
        rrule="FREQ=WEEKLY;BYDAY=SA",
        start_time=dt.time(9),
        end_time=dt.time(12),
        valid_from=dt.date(2026, 1, 1),
    )
    response = admin.post(
        "/schedule/setup/blocks/leave/",
        {
            "provider": schedule.provider_id,
            "first_day": "2026-11-30",
            "last_day": "2026-12-05",
            "reason": "Conference",
        },
        follow=True,
    )
    assert "Saved the leave of Mei Lee, MD." in _messages(response)
    leave = Block.objects.get(kind=BlockKind.LEAVE)
    assert leave.start == dt.datetime(2026, 11, 30, 0, 0, tzinfo=NY)
    assert leave.end == dt.datetime(2026, 12, 6, 0, 0, tzinfo=NY)
    listed = admin.get("/schedule/setup/blocks/").content.decode()
    assert "Mon Nov 30, 2026" in listed and "Sat Dec 5, 2026 (whole day)" in listed
    assert "Every location" in listed
    now = NOW
    saturday = dt.datetime(2026, 12, 5, 10, tzinfo=NY)
    assert (
        slot_is_bookable(appointment_type=follow_up, schedule=other_place, start=saturday, now=now)
        is not None
    )
    admin.post(f"/schedule/setup/blocks/{leave.pk}/delete/")
    assert not Block.objects.exists()
    assert (
        slot_is_bookable(appointment_type=follow_up, schedule=other_place, start=saturday, now=now)
        is None
    )
    assert [e.action for e in _events("block")] == ["create", "update"]


def test_leave_is_refused_in_the_past_backwards_or_for_a_provider_without_hours(
    personas: Personas, schedule: Schedule, admin: Client
) -> None:
    newcomer = Provider.objects.create(
        clinic=personas.clinic, given_name="Ivo", family_name="Tan", specialty="Family"
    )
    cases = [
        (schedule.provider_id, "2026-11-20", "2026-11-30", "Leave must start today or later."),
        (schedule.provider_id, "2026-12-05", "2026-12-01", "The last day must be on or after"),
        (newcomer.pk, "2026-12-01", "2026-12-02", "Ivo Tan has no weekly hours yet"),
    ]
    for provider, first, last, words in cases:
        response = admin.post(
            "/schedule/setup/blocks/leave/",
            {"provider": provider, "first_day": first, "last_day": last, "reason": "Away"},
        )
        assert response.status_code == 400
        assert words in response.content.decode()
    assert not Block.objects.exists()


# --- Holidays -------------------------------------------------------------------------------


def test_a_holiday_closes_the_day_and_a_second_one_on_that_date_is_refused(
    personas: Personas, schedule: Schedule, follow_up: AppointmentType, admin: Client
) -> None:
    added = admin.post(
        "/schedule/setup/holidays/", {"date": "2026-12-25", "name": "Christmas Day"}, follow=True
    )
    assert "The clinic is closed on Fri Dec 25, 2026." in _messages(added)
    christmas = dt.datetime(2026, 12, 25, 10, tzinfo=NY)
    assert (
        slot_is_bookable(appointment_type=follow_up, schedule=schedule, start=christmas, now=NOW)
        is not None
    )
    again = admin.post("/schedule/setup/holidays/", {"date": "12/25/2026", "name": "Xmas"})
    assert again.status_code == 400
    html = again.content.decode()
    assert "Fri Dec 25, 2026 is already a holiday (Christmas Day)." in html
    assert 'value="Xmas"' in html
    assert ClinicHoliday.objects.count() == 1
    (event,) = _events("clinic_holiday")
    assert event.detail == {"date": "2026-12-25", "name": "Christmas Day"}

    holiday = ClinicHoliday.objects.get()
    admin.post(f"/schedule/setup/holidays/{holiday.pk}/delete/")
    assert not ClinicHoliday.objects.exists()
    assert _events("clinic_holiday")[-1].detail["deleted"] == "Christmas Day"


def test_a_holiday_on_a_day_with_bookings_warns_that_they_stay_booked(
    personas: Personas, patient: Patient, schedule: Schedule, follow_up: AppointmentType
) -> None:
    services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=follow_up,
        start=dt.datetime(2026, 11, 27, 16, 30, tzinfo=NY),
    )
    _holiday, warnings = setup.holiday_add(
        context=SYSTEM_CONTEXT, clinic=personas.clinic, day=dt.date(2026, 11, 27), name="Day after"
    )
    assert warnings == [
        "1 appointment(s) are booked on Fri Nov 27, 2026; they stay booked. Move or cancel them "
        "from the day view."
    ]


# --- The set-up page and its lists ----------------------------------------------------------


def test_the_set_up_page_lists_recent_changes(schedule: Schedule, admin: Client) -> None:
    admin.post("/schedule/setup/holidays/", {"date": "2027-01-01", "name": "New Year's Day"})
    html = admin.get("/schedule/setup/").content.decode()
    assert "Recent set-up changes" in html
    assert "adam" in html and "New Year&#x27;s Day" in html
    assert "Created holiday" in html
    assert "1 upcoming day the clinic is closed" in html


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_an_administrator_sets_the_calendar_feeds_visit_title_and_it_is_audited(
    personas: Personas, admin: Client
) -> None:
    page = admin.get("/schedule/setup/calendar/")
    assert page.status_code == 200 and 'value="Appointment"' in page.content.decode()
    response = admin.post("/schedule/setup/calendar/", {"title": "  Clinic   visit "})
    assert response.status_code == 302
    personas.clinic.refresh_from_db()
    assert personas.clinic.calendar_event_title == "Clinic visit"
    event = AuditEvent.objects.get(object_type="calendar_event_title")
    assert event.detail == {"from": "Appointment", "to": "Clinic visit"}
    assert "calendar visit title" in admin.get("/schedule/setup/").content.decode()


def test_an_empty_calendar_title_is_refused_in_words(personas: Personas, admin: Client) -> None:
    response = admin.post("/schedule/setup/calendar/", {"title": "   "})
    assert response.status_code == 400
    assert "Type a title, such as Appointment." in response.content.decode()
    personas.clinic.refresh_from_db()
    assert personas.clinic.calendar_event_title == "Appointment"


def test_others_cannot_change_the_calendar_title(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        "/schedule/setup/calendar/", {"title": "Cardiology"}
    )
    assert response.status_code == 403
    personas.clinic.refresh_from_db()
    assert personas.clinic.calendar_event_title == "Appointment"


def test_the_set_up_lists_take_the_same_number_of_queries_however_long_they_are(
    personas: Personas, schedule: Schedule, admin: Client
) -> None:
    def add_rows(n: int) -> None:
        for i in range(n):
            kind = AppointmentType.objects.create(
                clinic=personas.clinic, name=f"Type {i}-{n}", duration_minutes=15
            )
            kind.allowed_providers.add(schedule.provider)
            block = Block.objects.create(
                schedule=schedule,
                kind=BlockKind.RESERVED,
                start=NOW + dt.timedelta(days=i + 1),
                end=NOW + dt.timedelta(days=i + 1, hours=1),
            )
            block.appointment_types.add(kind)
            ClinicHoliday.objects.create(
                clinic=personas.clinic,
                date=dt.date(2026, 12, 1) + dt.timedelta(days=i + n * 10),
                name=f"Day {i}",
            )

    urls = [
        "/schedule/setup/",
        "/schedule/setup/types/",
        "/schedule/setup/hours/",
        "/schedule/setup/blocks/",
        "/schedule/setup/holidays/",
    ]
    add_rows(1)
    few = [_queries(admin, url) for url in urls]
    add_rows(4)
    many = [_queries(admin, url) for url in urls]
    assert few == many


def test_a_rule_asking_for_a_day_that_never_comes_is_refused_at_once(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=[], rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
    )
    assert response.status_code == 400
    assert "never have (such as February 30)" in response.content.decode()


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=120,
)
ANY_INPUT = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@ANY_INPUT
@given(
    hours=st.dictionaries(
        st.sampled_from(
            [
                "provider",
                "location",
                "weekdays",
                "every_weeks",
                "rrule",
                "start_time",
                "end_time",
                "valid_from",
                "valid_until",
                "slot_minutes",
                "overbook_cap",
            ]
        ),
        TEXT,
    ),
    block=st.dictionaries(
        st.sampled_from(
            [
                "kind",
                "schedule",
                "day",
                "start_time",
                "end_time",
                "repeat_until",
                "appointment_types",
                "release_days_before",
                "reason",
            ]
        ),
        TEXT,
    ),
    other=st.dictionaries(
        st.sampled_from(
            ["name", "duration_minutes", "colour", "daily_limit", "provider", "first_day", "date"]
        ),
        TEXT,
    ),
)
def test_the_set_up_forms_survive_any_input(
    personas: Personas,
    hours: dict[str, str],
    block: dict[str, str],
    other: dict[str, str],
) -> None:
    client = login_client(Client(), personas.admin)
    for url, data in [
        ("/schedule/setup/hours/add/", hours),
        ("/schedule/setup/blocks/add/", block),
        ("/schedule/setup/blocks/leave/", other),
        ("/schedule/setup/types/add/", other),
        ("/schedule/setup/holidays/", other),
    ]:
        assert client.post(url, data).status_code in (302, 400)


RULE_LIKE = st.from_regex(
    r"\A(RRULE:)?FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY|HOURLY|X)"
    r"(;(BYDAY|BYMONTHDAY|BYMONTH|INTERVAL|COUNT|UNTIL)=[-+0-9A-Z,]{0,9}){0,3};?\Z"
)


@ANY_INPUT
@given(rule=RULE_LIKE, start=TEXT, end=TEXT)
def test_typed_rules_and_times_are_saved_or_refused_in_words(
    personas: Personas, schedule: Schedule, rule: str, start: str, end: str
) -> None:
    client = login_client(Client(), personas.admin)
    data = _hours_form(
        schedule, schedule.location, weekdays=[], rrule=rule, valid_from="2027-06-01"
    )
    assert client.post("/schedule/setup/hours/add/", data).status_code in (302, 400)
    timed = _hours_form(schedule, schedule.location, start_time=start, end_time=end)
    assert client.post("/schedule/setup/hours/add/", timed).status_code in (302, 400)


def test_two_administrators_adding_clashing_hours_at_once_never_both_succeed(
    transactional_audit: None, personas: Personas
) -> None:
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name="Ruiz", specialty="Physio"
    )
    places = [Location.objects.create(clinic=personas.clinic, name=f"Site {i}") for i in range(4)]
    barrier = threading.Barrier(len(places))
    outcomes: list[str] = []

    def attempt(location: Location) -> None:
        try:
            barrier.wait()
            setup.template_save(
                context=SYSTEM_CONTEXT,
                clinic=personas.clinic,
                template=None,
                data=setup.TemplateInput(
                    provider=provider,
                    location=location,
                    rrule="FREQ=WEEKLY;BYDAY=WE",
                    start_time=dt.time(9),
                    end_time=dt.time(12),
                    valid_from=dt.date(2026, 12, 1),
                    valid_until=None,
                    slot_minutes=15,
                    overbook_cap=0,
                ),
            )
            outcomes.append("saved")
        except setup.SetupRefusedError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(place,)) for place in places]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "saved"]
    assert ScheduleTemplate.objects.filter(schedule__provider=provider).count() == 1


def test_shortening_or_deleting_hours_reports_the_bookings_left_outside_them(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    admin: Client,
) -> None:
    services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=follow_up,
        start=dt.datetime(2026, 11, 26, 16, 0, tzinfo=NY),
    )
    template = schedule.templates.get()
    shorter = _hours_form(
        schedule,
        schedule.location,
        weekdays=["0", "1", "2", "3", "4"],
        start_time="09:00",
        end_time="15:00",
        valid_from="2026-01-01",
    )
    response = admin.post(f"/schedule/setup/hours/{template.pk}/", shorter, follow=True)
    assert "1 upcoming appointment(s) of Mei Lee, MD at Northside now fall outside" in (
        _messages(response)
    )
    deleted = admin.post(f"/schedule/setup/hours/{template.pk}/delete/", follow=True)
    assert "now fall outside the weekly hours; they stay booked" in _messages(deleted)
    assert not ScheduleTemplate.objects.exists()
    assert _events("schedule_template")[-1].detail["deleted"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


# --- Weekly hours and the clocks' changes ---------------------------------------------------


def test_weekly_hours_starting_in_the_hour_the_clocks_skip_are_refused_naming_the_day(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    # New York springs forward at 02:00 on Sunday 14 March 2027: 02:30 never happens that day.
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=["6"], start_time="02:30", end_time="06:00"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "These hours fall on Sun Mar 14, 2027, when their start time 02:30 does not exist: the "
        "clocks go forward 60 minutes that night. Choose a start time before or after the "
        "change" in html
    )
    assert 'value="02:30"' in html and 'value="06:00"' in html  # what was typed stays
    assert not ScheduleTemplate.objects.filter(schedule__location=southside).exists()


def test_weekly_hours_ending_in_the_skipped_hour_are_refused_on_the_end_time(
    schedule: Schedule, southside: Location
) -> None:
    with pytest.raises(setup.SetupRefusedError) as refused:
        setup.template_save(
            context=SYSTEM_CONTEXT,
            clinic=schedule.clinic,
            template=None,
            data=setup.TemplateInput(
                provider=schedule.provider,
                location=southside,
                rrule="FREQ=DAILY",
                start_time=dt.time(0),
                end_time=dt.time(2, 15),
                valid_from=dt.date(2026, 12, 1),
                valid_until=None,
                slot_minutes=15,
                overbook_cap=0,
            ),
        )
    assert refused.value.field == "end_time"
    assert "Sun Mar 14, 2027, when their end time 02:15 does not exist" in refused.value.message


@pytest.mark.parametrize(
    ("weekdays", "valid_from", "valid_until"),
    [
        (["0", "1", "2", "3", "4"], "2026-12-01", ""),  # New York changes its clocks on Sundays
        (["6"], "2026-12-01", "2027-03-13"),  # ends the day before the change
        (["6"], "2026-01-04", "2026-12-27"),  # Sun Mar 8, 2026 is past: no longer bookable
    ],
)
def test_hours_at_a_skipped_time_are_accepted_when_no_day_they_are_used_has_the_change(
    schedule: Schedule,
    southside: Location,
    admin: Client,
    weekdays: list[str],
    valid_from: str,
    valid_until: str,
) -> None:
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(
            schedule,
            southside,
            weekdays=weekdays,
            start_time="02:30",
            end_time="06:00",
            valid_from=valid_from,
            valid_until=valid_until,
        ),
        follow=True,
    )
    assert "Saved the weekly hours." in _messages(response)
    assert "clocks" not in _messages(response)


def test_weekly_hours_at_a_time_that_happens_twice_use_the_first_and_say_on_which_days(
    schedule: Schedule, southside: Location, admin: Client
) -> None:
    # New York falls back at 02:00 on the first Sunday of November: 01:30 happens twice.
    response = admin.post(
        "/schedule/setup/hours/add/",
        _hours_form(schedule, southside, weekdays=["6"], start_time="01:30", end_time="05:00"),
        follow=True,
    )
    said = _messages(response)
    assert "Saved the weekly hours." in said
    assert (
        "01:30 happens twice on Sun Nov 7, 2027, Sun Nov 5, 2028, Sun Nov 4, 2029 (the clocks go "
        "back); these hours use the first 01:30." in said
    )
    # ... and so does availability: the session starts at the first 01:30 (EDT, UTC-4).
    southside_schedule = Schedule.objects.get(location=southside)
    (session,) = availability.template_sessions(
        schedule=southside_schedule, day_from=dt.date(2027, 11, 7), day_to=dt.date(2027, 11, 7)
    )
    assert session.start == dt.datetime(2027, 11, 7, 5, 30, tzinfo=dt.UTC)


# --- Typed rules: refused quickly, whatever is typed ----------------------------------------


class _PeriodCounter:
    """Counts the months (years, for a yearly rule) dateutil's expansion steps through: the
    work a rule costs even where it falls on no date."""

    def __init__(self) -> None:
        self.periods = 0

    def __enter__(self) -> _PeriodCounter:
        original = dateutil_rrule._iterinfo.rebuild

        def counted(info: object, year: int, month: int) -> None:
            self.periods += 1
            original(info, year, month)

        self._patch = mock.patch.object(dateutil_rrule._iterinfo, "rebuild", counted)
        self._patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.stop()


# dateutil gives up on a rule in the year 9999; expanded from today, a rule that falls on no
# date costs 12 x 7,973 months of work. The expansion moved by 400-year cycles costs at most
# about 12 x 404.
MOST_PERIODS = 12 * 410


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("FREQ=SECONDLY", "FREQ=SECONDLY would open them many times a day"),
        ("FREQ=MINUTELY;INTERVAL=5", "FREQ=MINUTELY would open them many times a day"),
        ("FREQ=HOURLY;BYDAY=MO", "FREQ=HOURLY would open them many times a day"),
        ("FREQ=DAILY;BYHOUR=9,10;BYMINUTE=0", "Leave BYHOUR and BYMINUTE out of the rule"),
        ("FREQ=DAILY;COUNT=999999999", "COUNT=999999999 is more than Frontdesk plans at once"),
        ("FREQ=WEEKLY;COUNT=5;UNTIL=20271231", "Give COUNT or UNTIL in the rule, not both"),
        ("FREQ=DAILY;INTERVAL=99999999", "with FREQ=DAILY it can be at most 366"),
        ("FREQ=WEEKLY;INTERVAL=60;BYDAY=MO", "with FREQ=WEEKLY it can be at most 52"),
        ("FREQ=YEARLY;INTERVAL=2", "with FREQ=YEARLY it can be at most 1"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0 is not a number of periods"),
        ("FREQ=DAILY;INTERVAL=100000000000000000000", "with FREQ=DAILY it can be at most 366"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT=0 is not a number of times"),
        # Never: the second date of a one-day period; the fifth Monday on the 1st.
        ("FREQ=DAILY;BYSETPOS=2", "That rule never falls on any date from Tue Dec 1, 2026 on."),
        ("FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO", "That rule never falls on any date"),
        ("FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6", "That rule never falls on any date"),
        # Years apart: Feb 29 in leap years only; Feb 29 on a Monday, next in 2044.
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            "falls on no date from Tue Dec 1, 2026 to Tue Feb 29, 2028, more than a year",
        ),
        (
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            "falls on no date from Tue Dec 1, 2026 to Mon Feb 29, 2044, more than a year",
        ),
    ],
)
def test_a_pathological_rule_is_refused_in_words_with_bounded_work(
    schedule: Schedule, southside: Location, admin: Client, rule: str, said: str
) -> None:
    with _PeriodCounter() as work:
        response = admin.post(
            "/schedule/setup/hours/add/", _hours_form(schedule, southside, weekdays=[], rrule=rule)
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert said in html
    assert f'value="{rule}"' in html  # what was typed stays
    assert work.periods < MOST_PERIODS
    assert not ScheduleTemplate.objects.filter(schedule__location=southside).exists()


def test_a_rule_that_never_comes_would_cost_dateutil_thousands_of_years_unmoved() -> None:
    # The bound above is the expansion's doing: dateutil alone searches to the year 9999.
    with _PeriodCounter() as work:
        start = dt.datetime(2026, 12, 1, tzinfo=NY)
        found = rrulestr("FREQ=DAILY;BYSETPOS=2", dtstart=start).between(
            start, dt.datetime(2029, 12, 1, tzinfo=NY), inc=True
        )
    assert found == [] and work.periods > 12 * 7_900
    with _PeriodCounter() as moved:
        expansion = setup.rule_expand(
            "FREQ=DAILY;BYSETPOS=2",
            valid_from=dt.date(2026, 12, 1),
            start_time=dt.time(9),
            day_from=dt.date(2026, 12, 1),
            day_to=dt.date(2029, 12, 1),
            zone=NY,
        )
    assert expansion.dates == [] and expansion.next_date is None
    assert moved.periods < MOST_PERIODS


def test_the_expansion_walks_at_most_its_cap_of_dates_and_then_refuses() -> None:
    with pytest.raises(setup.RuleTooBusyError, match="falls on more than 100 dates"):
        setup.rule_expand(
            "FREQ=DAILY",
            valid_from=dt.date(2026, 12, 1),
            start_time=dt.time(9),
            day_from=dt.date(2026, 12, 1),
            day_to=dt.date(2029, 12, 1),
            zone=NY,
            most=100,
        )
    within = setup.rule_expand(
        "FREQ=DAILY",
        valid_from=dt.date(2026, 12, 1),
        start_time=dt.time(9),
        day_from=dt.date(2026, 12, 1),
        day_to=dt.date(2026, 12, 31),
        zone=NY,
        most=100,
    )
    assert within.walked == 32 and within.next_date == dt.date(2027, 1, 1)
    assert within.dates[0] == dt.date(2026, 12, 1) and within.dates[-1] == dt.date(2026, 12, 31)


@pytest.mark.parametrize(
    ("rule", "first", "last"),
    [
        # Moved by whole 400-year cycles and back, every pattern keeps its days.
        ("FREQ=MONTHLY;BYDAY=1TU", dt.date(2026, 12, 1), dt.date(2029, 11, 6)),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", dt.date(2026, 12, 4), dt.date(2029, 11, 30)),
        ("FREQ=YEARLY;BYMONTH=1;BYDAY=1MO", dt.date(2027, 1, 4), dt.date(2029, 1, 1)),
        ("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", dt.date(2026, 12, 31), dt.date(2027, 2, 28)),
        ("FREQ=WEEKLY;BYDAY=SU;UNTIL=20270314T070000Z", dt.date(2026, 12, 6), dt.date(2027, 3, 7)),
    ],
)
def test_the_bounded_expansion_gives_the_same_dates_as_dateutil(
    rule: str, first: dt.date, last: dt.date
) -> None:
    start = dt.datetime(2026, 12, 1, 9, tzinfo=NY)
    expected = [
        when.date()
        for when in rrulestr(rule, dtstart=start).between(
            start, dt.datetime(2029, 12, 1, 23, tzinfo=NY), inc=True
        )
    ]
    found = setup.rule_expand(
        rule,
        valid_from=dt.date(2026, 12, 1),
        start_time=dt.time(9),
        day_from=dt.date(2026, 12, 1),
        day_to=dt.date(2029, 12, 1),
        zone=NY,
    ).dates
    assert found == expected
    assert (found[0], found[-1]) == (first, last)
