"""What the waiting-room screen and the desk say about a wait: never "about 0 min", no figure
where nobody waits, and never a wait shorter than the delay the provider is running."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import display as screens
from frontdesk.flow import services
from frontdesk.flow.forecast import wait_words
from frontdesk.flow.models import FlowStatus, QueueEntry, WaitingRoomDisplay
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import Appointment

pytestmark = pytest.mark.usefixtures("frozen")


def _screen(personas: Personas) -> WaitingRoomDisplay:
    return screens.display_create(context=SYSTEM_CONTEXT, clinic=personas.clinic, name="TV")


def _tv(screen: WaitingRoomDisplay) -> str:
    token = screens.display_token(screen)
    return Client().get(f"/flow/display/live/?token={token}").content.decode()


def _check_in(personas: Personas, appointment: Appointment) -> QueueEntry:
    return services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )


def _desk_check_in(personas: Personas, appointment: Appointment) -> str:
    response = login_client(Client(), personas.front_desk).post(
        f"/flow/check-in/{appointment.pk}/",
        {"identity_confirmed": "on", "priority": "normal", "late_choice": "see_with_delay"},
        follow=True,
    )
    return response.content.decode()


@pytest.mark.django_db
def test_it_says_under_5_min_rather_than_about_0_and_rounds_the_rest() -> None:
    assert [wait_words(m) for m in (0, 1, 4)] == ["under 5 min"] * 3
    assert wait_words(None) == ""
    assert [wait_words(m) for m in (5, 23, 37, 58, 111)] == [
        "about 5 min",
        "about 25 min",
        "about 35 min",
        "about 60 min",
        "about 110 min",
    ]


def test_the_screen_gives_no_wait_for_a_provider_nobody_waits_for(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = _check_in(personas, make_appointment(start=timezone.now()))
    services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.LEFT)
    text = _tv(_screen(personas))
    assert "Mei Lee, MD" in text and "No one waiting" in text
    assert "0 min" not in text and "about" not in text


def test_the_desk_is_told_under_5_min_for_a_patient_with_nobody_ahead(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    text = _desk_check_in(personas, make_appointment(start=timezone.now()))
    assert "ticket A-001 for Mei Lee, MD. Tell the patient: under 5 min." in text
    assert "about 0 min" not in text


def test_a_late_patients_check_in_says_under_5_min_rather_than_about_0(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    late = make_appointment(start=timezone.now() - dt.timedelta(minutes=20))
    page = login_client(Client(), personas.front_desk).get(f"/flow/check-in/{late.pk}/")
    text = page.content.decode()
    assert "See with delay (tell the patient: under 5 min)" in text
    assert "about 0 min" not in text


def test_a_provider_running_late_never_shows_a_shorter_wait_than_the_delay(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    # Booked for 10:05, here at 10:00, still waiting at 11:56: seen 111 minutes after booking.
    _check_in(personas, make_appointment(start=timezone.now() + dt.timedelta(minutes=5)))
    frozen.shift(dt.timedelta(minutes=116))
    screen = _screen(personas)
    text = _tv(screen)
    assert "Running late" in text and "about 110 min" in text
    assert "about 20 min" not in text  # the forecast alone: the 20-minute visit ahead

    desk = login_client(Client(), personas.front_desk)
    assert "Mei Lee, MD is running about 110 min late." in desk.get("/flow/").content.decode()
    told = _desk_check_in(personas, make_appointment(start=timezone.now()))
    assert "ticket A-002 for Mei Lee, MD. Tell the patient: about 110 min." in told
    assert QueueEntry.objects.get(ticket="A-002").told_wait_minutes == 111


def test_a_delay_put_on_the_screens_is_counted_in_the_providers_wait(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = _check_in(personas, make_appointment(start=timezone.now()))
    screen = _screen(personas)
    assert "about 20 min" in _tv(screen)  # the visit of the patient waiting
    desk = login_client(Client(), personas.front_desk)
    desk.post("/flow/announce/", {"queue": entry.queue_id, "minutes": "45"})
    text = _tv(screen)
    assert "Running late" in text and "about 45 min" in text and "about 20 min" not in text

    desk.post("/flow/announce/", {"minutes": "90"})  # every provider
    text = _tv(screen)
    assert "All providers are running about 90 minutes late." in text
    assert "about 90 min" in text and "about 45 min" not in text


def test_a_patients_own_lateness_is_not_the_providers(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    _check_in(
        personas,
        make_appointment(
            make_patient(personas.clinic), start=timezone.now() - dt.timedelta(hours=1)
        ),
    )
    assert "Running late" not in _tv(_screen(personas))
    overview = screens.desk_overview(clinic_id=personas.clinic.pk, now=timezone.now())
    assert overview.late == []


def test_the_board_says_a_wait_in_words_never_about_0_min(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    _check_in(personas, make_appointment(start=timezone.now()))

    board = login_client(Client(), personas.nurse).get("/flow/board/").content.decode()

    assert "seen in under 5 min" in board and "(told under 5 min)" in board
    assert "about 0 min" not in board and "(told 0)" not in board and "~0 min" not in board
