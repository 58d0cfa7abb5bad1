from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import display as screens
from frontdesk.flow import services
from frontdesk.flow.models import FlowStatus, WaitingRoomDisplay
from frontdesk.flow.tests.conftest import MakeAppointment

pytestmark = pytest.mark.usefixtures("frozen")


def _screen(personas: Personas) -> WaitingRoomDisplay:
    return screens.display_create(
        context=SYSTEM_CONTEXT, clinic=personas.clinic, name="Main waiting room"
    )


def _url(screen: WaitingRoomDisplay, live: bool = False) -> str:
    path = "/flow/display/live/" if live else "/flow/display/"
    return f"{path}?token={screens.display_token(screen)}"


def test_the_screen_never_shows_a_patients_name_birth_date_or_phone(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    patients = [
        make_patient(
            personas.clinic,
            given_name="Zebulon",
            family_name="Quixote",
            preferred_name="Zeb",
            birth_date=dt.date(1977, 8, 19),
            phone="+12025550188",
        ),
        make_patient(
            personas.clinic,
            given_name="Henrietta",
            family_name="Vandersloot",
            birth_date=dt.date(1991, 3, 4),
            phone="+12025550177",
        ),
        make_patient(
            personas.clinic,
            given_name="Ottoline",
            family_name="Marchbanks",
            birth_date=dt.date(1969, 12, 30),
            phone="+12025550166",
        ),
    ]
    entries = [
        services.appointment_check_in(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=make_appointment(p, start=timezone.now() - dt.timedelta(minutes=30)),
        )
        for p in patients
    ]
    services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=None, entry=entries[0], to=FlowStatus.CALLED, room="Room 4"
    )
    screen = _screen(personas)

    anonymous = Client()
    pages = [anonymous.get(_url(screen)), anonymous.get(_url(screen, live=True))]
    assert all(page.status_code == 200 for page in pages)
    text = " ".join(page.content.decode() for page in pages)
    assert (
        "A-001" in text
        and "Room 4" in text
        and 'A-002</span> <span class="display-ticket">A-003' in text
    )
    assert "Running late" in text  # booked 30 min ago, here since, still waiting
    for patient in patients:
        b = patient.birth_date
        for secret in (
            patient.given_name,
            patient.family_name,
            patient.preferred_name or patient.given_name,
            patient.mrn,
            b.isoformat(),
            f"{b:%m/%d/%Y}",
            f"{b.month}/{b.day}/{b.year}",
            f"{b:%B} {b.day}",
            patient.phone,
            patient.phone[-4:],
            patient.phone[2:5] + "-" + patient.phone[5:8],
        ):
            assert secret.lower() not in text.lower(), secret
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", text)  # no date of any kind


def test_a_forged_or_replaced_link_opens_nothing(personas: Personas) -> None:
    screen = _screen(personas)
    old = _url(screen)
    assert Client().get(old).status_code == 200
    screens.display_replace_link(context=SYSTEM_CONTEXT, display=screen, user=personas.admin)
    assert Client().get(old).status_code == 404
    assert Client().get(_url(screen)).status_code == 200
    assert Client().get("/flow/display/?token=1-1.forged").status_code == 404
    assert Client().get("/flow/display/").status_code == 404


def test_the_screen_and_its_updates_are_never_cached(personas: Personas) -> None:
    screen = _screen(personas)
    for url in (_url(screen), _url(screen, live=True)):
        response = Client().get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


def test_a_supervisor_adds_a_screen_and_replaces_its_link(personas: Personas) -> None:
    sue = login_client(Client(), personas.supervisor)
    added = sue.post("/flow/displays/", {"name": "Main waiting room"}, follow=True)
    assert "Added Main waiting room." in added.content.decode()
    screen = WaitingRoomDisplay.objects.get()
    assert screens.display_token(screen) in added.content.decode()
    twice = sue.post("/flow/displays/", {"name": "Main waiting room"})
    assert twice.status_code == 400
    assert "There is already a screen called Main waiting room." in twice.content.decode()
    assert 'value="Main waiting room"' in twice.content.decode()
    sue.post("/flow/displays/", {"replace": screen.pk})
    screen.refresh_from_db()
    assert screen.version == 2
    assert login_client(Client(), personas.front_desk).get("/flow/displays/").status_code == 403
