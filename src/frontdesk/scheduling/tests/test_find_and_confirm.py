"""Find a time as a row of days, then a confirmation that reads the booking back; the visit
reason and note the officer types stay on staff pages and are never lost going back."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.messaging.content import appointment_ics, reminder_message
from frontdesk.patients.models import Patient
from frontdesk.scheduling import calendar_feed
from frontdesk.scheduling.models import Appointment, Schedule
from frontdesk.scheduling.tests.waitlist_support import NOW


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


DAY_TAB = r'name="day" value="([\d-]+)" class="day-tab"'


def _find(client: Client, patient: Patient, **params: str) -> str:
    response = client.get(f"/schedule/patients/{patient.pk}/find/", params)
    assert response.status_code == 200
    return response.content.decode()


def _slot_values(html: str) -> list[str]:
    return [unescape(v) for v in re.findall(r'name="slot" value="([^"]+)"', html)]


def _choose(
    schedule: Schedule, kind: AppointmentType, start: dt.datetime, **extra: str
) -> dict[str, str]:
    return {
        "slot": f"{schedule.pk} {start.isoformat()}",
        "appointment_type": str(kind.pk),
        **extra,
    }


def test_find_a_time_shows_the_week_as_a_row_of_days_with_their_free_times(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)

    html = _find(client, patient, appointment_type=str(follow_up.pk))

    # Monday to Friday 09:00-17:00, a 30-minute visit on a 15-minute grid: 31 times a day.
    days = re.findall(DAY_TAB, html)
    assert days == [f"2026-11-{d}" for d in range(23, 30)]
    assert html.count(">31 free<") == 5 and html.count(">none<") == 2
    assert "Monday, November 23: 31 free times" in html
    assert len(_slot_values(html)) == 31

    friday = _find(client, patient, appointment_type=str(follow_up.pk), day="2026-11-27")
    assert "Friday, November 27: 31 free times" in friday
    assert _slot_values(friday)[0].endswith("2026-11-27T14:00:00+00:00")

    later = _find(client, patient, appointment_type=str(follow_up.pk), date_from="2026-11-30")
    assert re.findall(DAY_TAB, later)[0] == "2026-11-30"


def test_a_week_without_free_time_jumps_to_the_first_day_that_has_some(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    template = schedule.templates.get()
    template.valid_from = dt.date(2026, 12, 9)
    template.save()
    client = client_for(personas.front_desk)

    html = _find(client, patient, appointment_type=str(follow_up.pk))

    assert re.findall(DAY_TAB, html)[0] == "2026-12-09"
    assert "Wednesday, December 9: 31 free times" in html


def test_choosing_a_time_books_nothing_and_reads_the_booking_back(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    location = schedule.location
    location.address = "12 Elm Street, Springfield"
    location.save()
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)

    page = client.post(
        f"/schedule/patients/{patient.pk}/book/", _choose(schedule, follow_up, start)
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm the booking" in html
    assert "Smith, John" in html and "born January 2, 1980" in html and patient.mrn in html
    assert "Mei Lee" in html
    assert "Tuesday, November 24, 2026, 09:30–10:00" in html and "EST" in html
    assert "Follow-up visit, 30 minutes" in html
    assert "Northside" in html and "12 Elm Street, Springfield" in html
    assert ">Confirm booking</button>" in html and ">Back</button>" in html
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="booking_review", patient_ids=[patient.pk]
    ).exists()


def test_confirming_books_with_the_reason_and_note_shown_to_staff(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)

    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        _choose(
            schedule,
            follow_up,
            start,
            reason="  knee pain after fall ",
            note="needs a wheelchair at the door",
            confirm="yes",
        ),
    )

    appointment = Appointment.objects.get()
    assert response["Location"] == f"/schedule/appointments/{appointment.pk}/"
    assert (appointment.reason, appointment.note) == (
        "knee pain after fall",
        "needs a wheelchair at the door",
    )
    page = client.get(response["Location"]).content.decode()
    assert "knee pain after fall" in page and "needs a wheelchair at the door" in page
    day = client.get("/schedule/", {"date": "2026-11-24"}).content.decode()
    assert 'title="Reason: knee pain after fall · Note: needs a wheelchair at the door"' in day


def test_the_reason_and_note_never_reach_a_reminder_or_a_calendar_feed(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)
    client.post(
        f"/schedule/patients/{patient.pk}/book/",
        _choose(schedule, follow_up, start, reason="HIV test", note="anxious", confirm="yes"),
    )
    appointment = Appointment.objects.get()

    message = reminder_message(appointment, now=NOW)
    texts = [
        message.subject,
        message.text,
        message.html,
        message.sms_text,
        appointment_ics(appointment, now=NOW).decode(),
        calendar_feed.feed_calendar(schedule.provider, now=NOW).decode(),
    ]
    for text in texts:
        assert "HIV" not in text and "anxious" not in text


def test_back_from_the_confirmation_keeps_the_search_and_what_was_typed(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 25, 9, 30, tzinfo=clinic_tz)
    fields = _choose(
        schedule,
        follow_up,
        start,
        provider=str(schedule.provider_id),
        time_of_day="morning",
        day="2026-11-25",
        reason="knee pain",
        note="call after 5",
    )

    back = client.post(f"/schedule/patients/{patient.pk}/find/", fields)

    assert back.status_code == 200
    html = back.content.decode()
    assert "Wednesday, November 25: 12 free times" in html  # morning only, the day kept
    assert 'name="reason" value="knee pain"' in html
    assert 'name="note" value="call after 5"' in html
    assert '<form method="post" id="find-form"' in html  # the words stay out of the address
    assert f'<option value="{schedule.provider_id}" selected>' in html
    chosen = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        {**fields, "slot": _slot_values(html)[1]},
    ).content.decode()
    assert "knee pain</textarea>" not in chosen  # the reason is a one-line field
    assert 'value="knee pain"' in chosen and "call after 5</textarea>" in chosen
    assert not Appointment.objects.exists()


def test_a_reason_too_long_is_refused_in_words_and_keeps_the_note(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)

    page = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        _choose(schedule, follow_up, start, reason="x" * 101, note="call first", confirm="yes"),
    )

    assert page.status_code == 400
    html = page.content.decode()
    assert "Keep the reason to 100 characters; put the rest in the note." in html
    assert "call first</textarea>" in html
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/flow/check-out/7/", "/flow/check-out/7/"),
        ("https://evil.example/x", None),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
    ],
)
def test_after_booking_only_a_local_next_page_is_followed(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
    asked: str,
    lands: str | None,
) -> None:
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)
    find = client.get(
        f"/schedule/patients/{patient.pk}/find/",
        {"appointment_type": str(follow_up.pk), "next": asked},
    ).content.decode()
    assert (f'name="next" value="{asked}"' in find) == (lands is not None)

    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        _choose(schedule, follow_up, start, next=asked, confirm="yes"),
    )

    appointment = Appointment.objects.get()
    assert response["Location"] == (lands or f"/schedule/appointments/{appointment.pk}/")


def test_moving_an_appointment_from_the_row_of_days_moves_it_in_one_click(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    client.post(
        f"/schedule/patients/{patient.pk}/book/",
        _choose(schedule, follow_up, dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz), confirm="yes"),
    )
    appointment = Appointment.objects.get()
    html = _find(
        client,
        patient,
        appointment=str(appointment.pk),
        appointment_type=str(follow_up.pk),
        day="2026-11-25",
    )
    assert f'action="/schedule/appointments/{appointment.pk}/move/"' in html

    moved = client.post(
        f"/schedule/appointments/{appointment.pk}/move/", {"slot": _slot_values(html)[0]}
    )

    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == dt.datetime(2026, 11, 25, 9, tzinfo=clinic_tz)


@pytest.mark.parametrize("slot", ["abc", "1", "1 not-a-time", "99999 2026-11-24T09:00:00-05:00"])
def test_a_garbled_time_is_a_page_that_does_not_exist(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
    slot: str,
) -> None:
    client = client_for(personas.front_desk)
    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        {"slot": slot, "appointment_type": str(follow_up.pk), "confirm": "yes"},
    )
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_the_row_of_days_costs_no_query_per_provider_or_per_time(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    params = {"appointment_type": str(follow_up.pk)}
    client.get(f"/schedule/patients/{patient.pk}/find/", params)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/schedule/patients/{patient.pk}/find/", params)
    template = schedule.templates.get()
    for number in range(4):
        provider = Provider.objects.create(
            clinic=personas.clinic, given_name=f"P{number}", family_name="Doe", specialty="GP"
        )
        other = Schedule.objects.create(
            clinic=personas.clinic, provider=provider, location=schedule.location
        )
        template.pk = None
        template.schedule = other
        template.save()
    with CaptureQueriesContext(connection) as five:
        html = client.get(f"/schedule/patients/{patient.pk}/find/", params).content.decode()
    assert ">155 free<" in html  # 31 times a day for each of five providers
    # The week is read in chunks that double in length (availability.free_slots), shorter
    # at first for more providers: five cost a chunk or two more, never one per provider.
    assert len(one) <= 25
    assert len(five) - len(one) <= 3
