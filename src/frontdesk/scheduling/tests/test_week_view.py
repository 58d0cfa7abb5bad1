from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Block,
    BlockKind,
    CancelledBy,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)
from frontdesk.scheduling.week import WeekCell, WeekView, week_view

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


def _book(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
    *,
    overbook_reason: str = "",
) -> Appointment:
    return services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor if overbook_reason else personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=kind,
        start=start,
        overbook_reason=overbook_reason,
    )


def _cell(view: WeekView, day: dt.date, hh_mm: str) -> WeekCell:
    row = next(r for r in view.rows if r.time.strftime("%H:%M") == hh_mm)
    return row.cells[(day - view.monday).days]


def _slot_links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="(/schedule/week/book/\?[^"]+)"', html)]


def _weekend_template(schedule: Schedule, start: dt.time, end: dt.time) -> None:
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=WEEKLY;BYDAY=SA,SU",
        start_time=start,
        end_time=end,
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=15,
    )


def test_the_week_keeps_local_times_and_seven_days_across_the_autumn_clock_change(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    # New York leaves daylight saving time at 02:00 on Sunday November 1, 2026.
    _weekend_template(schedule, dt.time(9), dt.time(12))
    with time_machine.travel(dt.datetime(2026, 10, 26, 12, 0, tzinfo=dt.UTC), tick=False):
        sunday_visit = _book(
            personas,
            patient,
            schedule,
            follow_up,
            dt.datetime(2026, 11, 1, 9, 30, tzinfo=clinic_tz),
        )
        view = week_view(
            personas.front_desk,
            provider=schedule.provider,
            day=dt.date(2026, 10, 29),
            appointment_type=follow_up,
        )
    assert [d.day for d in view.days] == [dt.date(2026, 10, 26) + dt.timedelta(n) for n in range(7)]
    assert view.rows[0].time == dt.time(9, 0) and view.rows[-1].time == dt.time(16, 45)
    friday = _cell(view, dt.date(2026, 10, 30), "09:00")
    sunday = _cell(view, dt.date(2026, 11, 1), "09:00")
    assert friday.kind == "free" and sunday.kind == "free"
    assert friday.slots[0].start == dt.datetime(2026, 10, 30, 13, 0, tzinfo=dt.UTC)
    assert sunday.slots[0].start == dt.datetime(2026, 11, 1, 14, 0, tzinfo=dt.UTC)
    booked = _cell(view, dt.date(2026, 11, 1), "09:30")
    assert booked.kind == "start" and booked.appointment == sunday_visit
    assert booked.rows == 2
    assert _cell(view, dt.date(2026, 11, 1), "12:00").kind == "closed"
    assert view.days[-1].booked == 1


def test_a_local_time_skipped_in_spring_is_shown_as_missing_that_day_only(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
) -> None:
    # New York skips 02:00-03:00 on Sunday March 8, 2026.
    _weekend_template(schedule, dt.time(1), dt.time(4))
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC), tick=False):
        view = week_view(
            personas.front_desk,
            provider=schedule.provider,
            day=dt.date(2026, 3, 8),
            appointment_type=follow_up,
        )
    assert view.days[-1].day == dt.date(2026, 3, 8)
    assert _cell(view, dt.date(2026, 3, 8), "02:15").kind == "gap"
    assert _cell(view, dt.date(2026, 3, 7), "02:15").kind == "free"
    sunday_three = _cell(view, dt.date(2026, 3, 8), "03:00")
    assert sunday_three.slots[0].start == dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_the_week_shows_statuses_overbookings_blocks_and_holidays(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    tuesday = dt.date(2026, 11, 24)
    _book(personas, patient, schedule, follow_up, dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz))
    arrived = _book(
        personas,
        make_patient(personas.clinic, given_name="Ada", family_name="Arrow"),
        schedule,
        follow_up,
        dt.datetime(2026, 11, 24, 10, tzinfo=clinic_tz),
    )
    Appointment.objects.filter(pk=arrived.pk).update(status=AppointmentStatus.ARRIVED)
    eleven = dt.datetime(2026, 11, 24, 11, tzinfo=clinic_tz)
    _book(personas, make_patient(personas.clinic, family_name="Baker"), schedule, follow_up, eleven)
    _book(
        personas,
        make_patient(personas.clinic, family_name="Squeeze"),
        schedule,
        follow_up,
        eleven,
        overbook_reason="acute pain",
    )
    gone = _book(
        personas,
        make_patient(personas.clinic, family_name="Cancelled"),
        schedule,
        follow_up,
        dt.datetime(2026, 11, 24, 14, tzinfo=clinic_tz),
    )
    services.appointment_cancel(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=gone,
        cancelled_by=CancelledBy.PATIENT,
        reason="unwell",
    )
    Block.objects.create(
        schedule=schedule,
        kind=BlockKind.LEAVE,
        start=dt.datetime(2026, 11, 25, 0, 0, tzinfo=clinic_tz),
        end=dt.datetime(2026, 11, 26, 0, 0, tzinfo=clinic_tz),
    )
    Block.objects.create(
        schedule=schedule,
        kind=BlockKind.ADHOC,
        start=dt.datetime(2026, 11, 27, 12, 0, tzinfo=clinic_tz),
        end=dt.datetime(2026, 11, 27, 13, 0, tzinfo=clinic_tz),
        reason="staff meeting",
    )
    ClinicHoliday.objects.create(
        clinic=personas.clinic, date=dt.date(2026, 11, 26), name="Thanksgiving"
    )

    response = client_for(personas.nurse).get(
        "/schedule/week/", {"provider": str(schedule.provider_id), "date": "2026-11-25"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    for day in ("Mon Nov 23", "Tue Nov 24", "Wed Nov 25", "Thu Nov 26", "Sun Nov 29"):
        assert day in html
    assert "Smith, John" in html and "Arrow, Ada" in html and "Baker, John" in html
    assert 'class="appt status-booked"' in html
    assert 'class="appt status-arrived"' in html
    assert "Squeeze (overbooked)" in html
    assert "Cancelled, John" not in html
    assert "Closed: Thanksgiving" in html
    assert ">Leave<" in html and "Blocked (staff meeting)" in html
    assert _slot_links(html) == []  # a nurse sees free times but does not book

    view = week_view(
        personas.nurse, provider=schedule.provider, day=tuesday, appointment_type=follow_up
    )
    assert _cell(view, dt.date(2026, 11, 25), "09:00").kind == "block"
    assert _cell(view, dt.date(2026, 11, 26), "09:00").kind == "holiday"
    assert _cell(view, dt.date(2026, 11, 27), "12:15").title == "Blocked (staff meeting)"
    assert _cell(view, tuesday, "14:00").kind == "free"
    assert [d.booked for d in view.days][:3] == [0, 4, 0]

    event = AuditEvent.objects.get(object_type="week_view")
    assert set(event.patient_ids) == {
        a.patient_id for a in Appointment.objects.exclude(status=AppointmentStatus.CANCELLED)
    }
    assert event.detail == {"week_of": "2026-11-23"}


@time_machine.travel(NOW, tick=False)
def test_a_free_time_on_the_week_leads_to_booking_it(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    html = client.get(
        "/schedule/week/", {"provider": schedule.provider_id, "type": follow_up.pk}
    ).content.decode()
    links = _slot_links(html)
    assert links, "free times are links"
    # Monday 08:00 now: the first free time is today at 09:00 (13:00 is 08:00, before opening).
    first = links[0]
    assert "start=2026-11-23T14%3A00%3A00%2B00%3A00" in first

    page = client.get(first)
    assert page.status_code == 200
    assert "Book Follow-up visit" in page.content.decode()
    found = client.get(first + "&q=Smith").content.decode()
    assert f'action="/schedule/patients/{patient.pk}/book/"' in found
    assert AuditEvent.objects.filter(
        object_type="patient_search", patient_ids=[patient.pk]
    ).exists()

    start = re.search(r'name="start" value="([^"]+)"', found)
    assert start is not None
    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        {
            "schedule": schedule.pk,
            "appointment_type": follow_up.pk,
            "start": start.group(1),
            "confirm": "yes",
        },
    )
    appointment = Appointment.objects.get()
    assert response["Location"] == f"/schedule/appointments/{appointment.pk}/"
    assert appointment.start == dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
    after = client.get("/schedule/week/", {"provider": schedule.provider_id}).content.decode()
    assert first not in _slot_links(after)
    assert "Smith, John" in after


@time_machine.travel(NOW, tick=False)
def test_booking_a_free_time_tells_two_patients_of_the_same_name_apart(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    # One click books the patient found, so each row shows more than the name.
    older = make_patient(personas.clinic, birth_date=dt.date(1950, 2, 3), phone="+12025550111")
    younger = make_patient(personas.clinic, birth_date=dt.date(2001, 4, 5), phone="+12025550122")
    client = client_for(personas.front_desk)
    html = client.get("/schedule/week/", {"provider": schedule.provider_id, "type": follow_up.pk})
    first = _slot_links(html.content.decode())[0]
    found = client.get(first + "&q=Smith").content.decode()
    for patient, year, age, last_four in ((older, 1950, 76, "0111"), (younger, 2001, 25, "0122")):
        assert f'action="/schedule/patients/{patient.pk}/book/"' in found
        assert f"••/••/{year}" in found
        assert f"<td>{age}</td>" in found
        assert f"<code>{patient.mrn}</code>" in found
        assert f"••• ••• {last_four}" in found


@time_machine.travel(NOW, tick=False)
def test_a_time_taken_meanwhile_or_a_garbled_link_gets_a_clear_message(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    start = dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz)
    _book(personas, patient, schedule, follow_up, start)
    taken = client.get(
        "/schedule/week/book/",
        {
            "schedule": str(schedule.pk),
            "appointment_type": str(follow_up.pk),
            "start": start.isoformat(),
        },
    )
    assert taken.status_code == 200
    assert "already has an appointment then" in taken.content.decode()
    assert 'id="slot-search"' not in taken.content.decode()

    schedule_id, type_id, when = str(schedule.pk), str(follow_up.pk), start.isoformat()
    for bad in (
        {"schedule": "x", "appointment_type": type_id, "start": when},
        {"schedule": schedule_id, "appointment_type": type_id, "start": "tomorrow"},
        {"schedule": schedule_id, "appointment_type": "٣", "start": when},
        {},
    ):
        response = client.get("/schedule/week/book/", bad)
        assert response.status_code == 400
        assert "That time could not be read" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_week_answers_odd_input_without_an_error_page(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    assert client.get("/schedule/week/", {"provider": "abc"}).status_code == 404
    assert client.get("/schedule/week/", {"provider": "99999999"}).status_code == 404
    odd = client.get("/schedule/week/", {"date": "31/02/2026", "type": "‽"})
    assert odd.status_code == 200 and "week of November 23, 2026" in odd.content.decode()
    html = odd.content.decode()
    assert f"?provider={schedule.provider_id}&date=2026-11-16&type={follow_up.pk}" in html
    assert f"?provider={schedule.provider_id}&date=2026-11-30&type={follow_up.pk}" in html
    outsider = client_for(personas.outsider).get(
        "/schedule/week/", {"provider": schedule.provider_id}
    )
    assert outsider.status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_week_uses_a_fixed_number_of_queries(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    query = {"provider": str(schedule.provider_id), "date": "2026-11-24"}
    _book(
        personas,
        make_patient(personas.clinic, given_name="A"),
        schedule,
        follow_up,
        dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz),
    )
    client.get("/schedule/week/", query)
    with CaptureQueriesContext(connection) as one:
        client.get("/schedule/week/", query)
    for day, hour in ((24, 10), (25, 11), (26, 13), (27, 14)):
        _book(
            personas,
            make_patient(personas.clinic, given_name=f"P{day}"),
            schedule,
            follow_up,
            dt.datetime(2026, 11, day, hour, tzinfo=clinic_tz),
        )
    with CaptureQueriesContext(connection) as five:
        client.get("/schedule/week/", query)
    assert len(one) == len(five)


@time_machine.travel(NOW, tick=False)
def test_the_day_view_links_each_provider_to_their_week(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    html = (
        client_for(personas.front_desk).get("/schedule/", {"date": "2026-11-24"}).content.decode()
    )
    assert f"/schedule/week/?provider={schedule.provider_id}&amp;date=2026-11-24" in html


@pytest.mark.parametrize("role", ["billing", "supervisor"])
@time_machine.travel(NOW, tick=False)
def test_staff_who_may_see_appointments_see_the_week(
    role: str,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    user = getattr(personas, role)
    response = client_for(user).get("/schedule/week/")
    assert response.status_code == 200
    assert str(schedule.provider) in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_provider_opens_on_their_own_week(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    other = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Zoe",
        family_name="Young",
        specialty="Physiotherapy",
        staff_user=personas.physician,
    )
    Schedule.objects.create(clinic=personas.clinic, provider=other, location=schedule.location)
    first = client_for(personas.nurse).get("/schedule/week/").content.decode()
    assert "<h1>Mei Lee, MD · week of" in first
    own = client_for(personas.physician).get("/schedule/week/").content.decode()
    assert "<h1>Zoe Young · week of" in own
    assert "has no working hours or appointments" in own
