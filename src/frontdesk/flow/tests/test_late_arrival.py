from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.flow.late import late_impact
from frontdesk.flow.models import LateArrival, QueueEntry
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import Appointment, AppointmentStatus

pytestmark = pytest.mark.usefixtures("frozen")


def _day(make_appointment: MakeAppointment, personas: Personas) -> list[Appointment]:
    """09:40, 10:00, 10:20 and 10:40 (20 minutes each); it is 10:00 now."""
    now = timezone.now()
    names = ["Early", "Ontime", "Next", "Last"]
    return [
        make_appointment(
            make_patient(personas.clinic, family_name=name),
            start=now + dt.timedelta(minutes=m),
        )
        for name, m in zip(names, (-20, 0, 20, 40), strict=True)
    ]


def test_a_patient_past_the_grace_period_shows_who_would_start_late(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    late, on_time, following, last = _day(make_appointment, personas)
    impact = late_impact(late, now=timezone.now())
    assert (impact.late_minutes, impact.grace_minutes, impact.seen_in_minutes) == (20, 10, 0)
    assert [(k.appointment, k.delay_minutes) for k in impact.knocks] == [
        (on_time, 20),
        (following, 20),
        (last, 20),
    ]


def test_the_desk_chooses_to_see_a_late_patient_with_delay_and_the_board_shows_it(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    late = _day(make_appointment, personas)[0]
    desk = login_client(Client(), personas.front_desk)
    page = desk.get(f"/flow/check-in/{late.pk}/").content.decode()
    assert "20 minutes late" in page and "grace period for Follow-up visit is 10 minutes" in page
    assert "Ontime, John (Follow-up visit): about 20 min later" in page

    missing = desk.post(f"/flow/check-in/{late.pk}/", {"identity_confirmed": "on"})
    assert missing.status_code == 400
    assert "Choose: see with delay, or reschedule." in missing.content.decode()

    desk.post(
        f"/flow/check-in/{late.pk}/",
        {"identity_confirmed": "on", "late_choice": "see_with_delay", "priority": "normal"},
    )
    record = LateArrival.objects.get(appointment=late)
    assert (record.choice, record.late_minutes, record.decided_by) == (
        "see_with_delay",
        20,
        personas.front_desk,
    )
    assert [d["delay_minutes"] for d in record.impact] == [20, 20, 20]
    assert QueueEntry.objects.filter(appointment=late).exists()
    board = login_client(Client(), personas.nurse).get("/flow/board/").content.decode()
    assert "20 min late, seen with delay" in board


def test_the_desk_chooses_to_reschedule_a_late_patient_with_the_search_prefilled(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    late = _day(make_appointment, personas)[0]
    desk = login_client(Client(), personas.front_desk)
    response = desk.post(
        f"/flow/check-in/{late.pk}/",
        {"identity_confirmed": "on", "late_choice": "reschedule", "priority": "normal"},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        f"/schedule/patients/{late.patient_id}/find/?appointment={late.pk}"
        f"&appointment_type={late.appointment_type_id}"
    )
    assert LateArrival.objects.get(appointment=late).choice == "reschedule"
    late.refresh_from_db()
    assert late.status == AppointmentStatus.BOOKED
    assert not QueueEntry.objects.exists()


def test_within_the_grace_period_nothing_is_asked(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    appointment = make_appointment(start=timezone.now() - dt.timedelta(minutes=9))
    page = login_client(Client(), personas.front_desk).get(f"/flow/check-in/{appointment.pk}/")
    assert "minutes late" not in page.content.decode()
    assert 'name="late_choice"' not in page.content.decode()
