from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType
from frontdesk.patients.models import Patient
from frontdesk.scheduling import services, views
from frontdesk.scheduling.models import Appointment, Schedule

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _book(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
) -> Appointment:
    return services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=kind,
        start=start,
    )


def test_the_day_view_shows_providers_as_columns_with_their_appointments(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    _book(
        personas, patient, schedule, follow_up, dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)
    )
    html = client_for(personas.nurse).get("/schedule/", {"date": "2026-11-24"}).content.decode()
    assert "Lee" in html and "Smith, John" in html and "Follow-up visit" in html
    assert "09:30" in html and 'rowspan="2"' in html
    assert AuditEvent.objects.filter(object_type="day_view", patient_ids=[patient.pk]).exists()


def test_the_day_view_uses_a_fixed_number_of_queries(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    client.get("/schedule/", {"date": "2026-11-24"})
    _book(
        personas,
        make_patient(personas.clinic, given_name="A"),
        schedule,
        follow_up,
        dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz),
    )
    with CaptureQueriesContext(connection) as one:
        client.get("/schedule/", {"date": "2026-11-24"})
    for hour in (10, 11, 13, 14):
        _book(
            personas,
            make_patient(personas.clinic, given_name=f"P{hour}"),
            schedule,
            follow_up,
            dt.datetime(2026, 11, 24, hour, tzinfo=clinic_tz),
        )
    with CaptureQueriesContext(connection) as five:
        client.get("/schedule/", {"date": "2026-11-24"})
    assert len(one) == len(five)


def test_finding_and_booking_a_time_from_the_chart(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    assert (
        f"/schedule/patients/{patient.pk}/find/"
        in client.get(f"/patients/{patient.pk}/").content.decode()
    )
    page = client.get(f"/schedule/patients/{patient.pk}/find/", {"appointment_type": follow_up.pk})
    html = page.content.decode()
    assert "Next free times" in html and "Tue Nov 24, 09:00" not in html  # Mon is today
    first = dt.datetime(2026, 11, 23, 8, 0, tzinfo=clinic_tz)
    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        {
            "schedule": schedule.pk,
            "appointment_type": follow_up.pk,
            "start": (first + dt.timedelta(hours=1)).isoformat(),
            "confirm": "yes",
        },
    )
    appointment = Appointment.objects.get()
    assert response["Location"] == f"/schedule/appointments/{appointment.pk}/"
    # The message names the patient, so it waits in the session, never in a cookie.
    messages_cookie = client.cookies.get("messages")
    assert messages_cookie is None or not messages_cookie.value
    assert "Booked John Smith" in client.get(response["Location"]).content.decode()


def test_a_time_taken_meanwhile_sends_the_officer_back_to_fresh_options(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    start = dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz)
    _book(personas, make_patient(personas.clinic, given_name="Quick"), schedule, follow_up, start)
    client = client_for(personas.front_desk)
    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        {
            "schedule": schedule.pk,
            "appointment_type": follow_up.pk,
            "start": start.isoformat(),
            "reason": "knee pain",
            "confirm": "yes",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Nothing was booked; choose another time below." in html
    assert "Next free times" in html
    assert 'name="reason" value="knee pain"' in html  # nothing typed is lost
    assert Appointment.objects.count() == 1


def test_a_refused_booking_offers_the_next_free_times_after_the_refused_one(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    start = dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz)
    _book(personas, make_patient(personas.clinic, given_name="Quick"), schedule, follow_up, start)
    client = client_for(personas.front_desk)
    response = client.post(
        f"/schedule/patients/{patient.pk}/book/",
        {
            "schedule": schedule.pk,
            "appointment_type": follow_up.pk,
            "start": start.isoformat(),
            "reason": "knee pain",
            "time_of_day": "morning",
            "confirm": "yes",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Nothing was booked; choose another time below." in html
    times = re.findall(rf'name="slot" value="{schedule.pk} ([^"]+)"', html)
    offered = [dt.datetime.fromisoformat(t) for t in times]
    # A few times, the soonest first, all after the refused one (which is gone).
    assert 1 <= len(offered) <= views.NEARBY_TIMES
    assert offered == sorted(offered) and all(t > start for t in offered)
    assert offered[0] == start + dt.timedelta(minutes=follow_up.duration_minutes)
    # Each time and "All free times" carry the search and the words typed, by POST.
    assert html.count('name="time_of_day" value="morning"') == 2
    assert html.count('name="reason" value="knee pain"') == 2
    assert f'action="/schedule/patients/{patient.pk}/find/"' in html and "All free times" in html
    back = client.post(
        f"/schedule/patients/{patient.pk}/find/",
        {"appointment_type": follow_up.pk, "time_of_day": "morning", "reason": "knee pain"},
    )
    assert back.status_code == 200 and 'name="reason" value="knee pain"' in back.content.decode()


def test_booking_a_patient_already_booked_elsewhere_warns_first(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    from frontdesk.clinic.models import Location, Provider

    other_place = Location.objects.create(clinic=personas.clinic, name="Southside")
    other = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name="Ruiz", specialty="Dermatology"
    )
    other_schedule = Schedule.objects.create(
        clinic=personas.clinic, provider=other, location=other_place
    )
    for template in schedule.templates.all():
        template.pk = None
        template.schedule = other_schedule
        template.save()
    start = dt.datetime(2026, 11, 24, 9, tzinfo=clinic_tz)
    _book(personas, patient, schedule, follow_up, start)
    client = client_for(personas.front_desk)
    data = {
        "schedule": other_schedule.pk,
        "appointment_type": follow_up.pk,
        "start": start.isoformat(),
    }
    data["confirm"] = "yes"
    warned = client.post(f"/schedule/patients/{patient.pk}/book/", data)
    assert warned.status_code == 409 and "already has an appointment" in warned.content.decode()
    # Choosing another time posts what was typed back to the times, out of the address.
    assert f'formaction="/schedule/patients/{patient.pk}/find/"' in warned.content.decode()
    assert Appointment.objects.count() == 1
    client.post(f"/schedule/patients/{patient.pk}/book/", {**data, "confirm_overlap": "yes"})
    assert Appointment.objects.count() == 2


def test_cancelling_needs_a_reason_and_moving_keeps_the_history(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    appointment = _book(
        personas, patient, schedule, follow_up, dt.datetime(2026, 11, 25, 10, tzinfo=clinic_tz)
    )
    client = client_for(personas.front_desk)
    url = f"/schedule/appointments/{appointment.pk}/"
    refused = client.post(url + "cancel/", {"cancelled_by": "patient", "reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    client.post(
        url + "move/",
        {
            "schedule": schedule.pk,
            "start": dt.datetime(2026, 11, 25, 11, tzinfo=clinic_tz).isoformat(),
        },
    )
    appointment.refresh_from_db()
    assert appointment.start == dt.datetime(2026, 11, 25, 11, tzinfo=clinic_tz)
    client.post(url + "cancel/", {"cancelled_by": "patient", "reason": "travelling"})
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    html = client.get(url).content.decode()
    assert "travelling" in html and "cancelled" in html


def test_another_clinic_sees_no_appointment(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    appointment = _book(
        personas, patient, schedule, follow_up, dt.datetime(2026, 11, 25, 10, tzinfo=clinic_tz)
    )
    outsider = client_for(personas.outsider)
    assert outsider.get(f"/schedule/appointments/{appointment.pk}/").status_code == 404
    assert "Smith" not in outsider.get("/schedule/", {"date": "2026-11-25"}).content.decode()


def test_free_time_on_the_day_view_leads_to_choosing_the_visit_and_booking_it(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    officer = client_for(personas.front_desk)
    html = officer.get("/schedule/", {"date": "2026-11-24"}).content.decode()
    start = dt.datetime(2026, 11, 24, 10, 0, tzinfo=clinic_tz)
    link = f"/schedule/week/book/?schedule={schedule.pk}&amp;start={start.isoformat()}"
    assert link.replace("+", "%2B").replace(":", "%3A") in html
    choose = officer.get(
        "/schedule/week/book/", {"schedule": str(schedule.pk), "start": start.isoformat()}
    )
    assert choose.status_code == 200
    assert "Follow-up visit (30 min)" in choose.content.decode()
    search = officer.get(
        "/schedule/week/book/",
        {
            "schedule": str(schedule.pk),
            "start": start.isoformat(),
            "appointment_type": str(follow_up.pk),
            "q": "smith",
        },
    )
    assert f"Book {patient.given_name} {patient.family_name} here" in search.content.decode()
    booked = officer.post(
        f"/schedule/patients/{patient.pk}/book/",
        {
            "schedule": schedule.pk,
            "appointment_type": follow_up.pk,
            "start": start.isoformat(),
            "confirm": "yes",
        },
    )
    assert booked.status_code == 302
    assert Appointment.objects.filter(patient=patient, start=start).exists()


def test_the_day_view_offers_no_booking_link_to_roles_that_cannot_book_or_for_past_times(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    nurse_html = client_for(personas.nurse).get("/schedule/", {"date": "2026-11-24"})
    assert "/schedule/week/book/" not in nurse_html.content.decode()
    past = client_for(personas.front_desk).get("/schedule/", {"date": "2026-11-20"})
    assert 'class="free"' in past.content.decode()
    assert "/schedule/week/book/" not in past.content.decode()


def test_a_free_time_with_no_fitting_visit_says_so(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    late = dt.datetime(2026, 11, 24, 16, 45, tzinfo=clinic_tz)  # 30 minutes do not fit by 17:00
    page = client_for(personas.front_desk).get(
        "/schedule/week/book/", {"schedule": str(schedule.pk), "start": late.isoformat()}
    )
    assert page.status_code == 200
    assert "No kind of visit fits at this time" in page.content.decode()
