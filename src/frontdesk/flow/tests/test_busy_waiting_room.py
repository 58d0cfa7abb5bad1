from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import display as screens
from frontdesk.flow import live, services
from frontdesk.flow.models import DelayAnnouncement, FlowStatus
from frontdesk.flow.tests.conftest import MakeAppointment

pytestmark = pytest.mark.usefixtures("frozen")


def test_the_desk_sees_counts_the_longest_wait_and_who_runs_late_then_announces_it(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    start = timezone.now() - dt.timedelta(minutes=5)
    entries = [
        services.appointment_check_in(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=make_appointment(start=start),
        )
        for _ in range(3)
    ]
    services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=None, entry=entries[0], to=FlowStatus.CALLED
    )
    frozen.shift(dt.timedelta(minutes=12))

    desk = login_client(Client(), personas.front_desk)
    page = desk.get("/flow/").content.decode()
    assert "<strong>2</strong> waiting" in page and "<strong>1</strong> called" in page
    assert "longest wait <strong>12 min</strong>" in page
    # The next waiting patient, booked for 09:55 and here at 10:00, is seen at 10:32 after the
    # called one: 32 minutes the provider runs late (the 5 the patient was late are not theirs).
    assert "Mei Lee, MD is running about 30 min late." in page

    screen = screens.display_create(context=SYSTEM_CONTEXT, clinic=personas.clinic, name="TV")
    tv = Client().get(f"/flow/display/live/?token={screens.display_token(screen)}")
    assert "Running late" in tv.content.decode() and "about 60 min" in tv.content.decode()
    version = live.flow_version(personas.clinic.pk)
    desk.post("/flow/announce/", {"queue": entries[0].queue_id, "minutes": "90"})
    assert live.flow_version(personas.clinic.pk) == version + 1
    tv = Client().get(f"/flow/display/live/?token={screens.display_token(screen)}")
    assert "about 90 min" in tv.content.decode()  # the provider's one statement of the wait

    cleared = desk.post("/flow/announce/", {"clear": "1"}, follow=True)
    assert "The delay notices are off the screens." in cleared.content.decode()
    tv = Client().get(f"/flow/display/live/?token={screens.display_token(screen)}")
    assert "about 90 min" not in tv.content.decode()
    assert "about 60 min" in tv.content.decode()


def test_a_nonsense_delay_is_refused_in_words(personas: Personas) -> None:
    desk = login_client(Client(), personas.front_desk)
    for minutes in ("0", "999", "ten", ""):
        response = desk.post("/flow/announce/", {"minutes": minutes}, follow=True)
        assert "between 1 and 240" in response.content.decode()
    assert not DelayAnnouncement.objects.exists()
    assert login_client(Client(), personas.nurse).post("/flow/announce/").status_code == 403
