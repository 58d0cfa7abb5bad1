from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client
from frontdesk.flow.models import Playbook
from frontdesk.flow.tests.conftest import MakeAppointment

pytestmark = pytest.mark.usefixtures("frozen")


def test_playbooks_are_shown_where_the_situation_happens(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    desk = login_client(Client(), personas.front_desk)
    today = desk.get("/flow/").content.decode()
    assert "Playbook: Busy waiting room" in today
    assert "Announce the delay on the screens in one click" in today

    late = make_appointment(start=timezone.now() - dt.timedelta(minutes=30))
    assert "Playbook: Late patient" in desk.get(f"/flow/check-in/{late.pk}/").content.decode()
    on_time = make_appointment()
    page = desk.get(f"/flow/check-in/{on_time.pk}/").content.decode()
    assert "Playbook: Confidentiality at the desk" in page
    assert "Playbook: Medical question at the desk" in desk.get("/flow/walk-in/").content.decode()
    every = desk.get("/flow/playbooks/").content.decode()
    for title in ("Upset patient", "System outage", "Medical question at the desk"):
        assert title in every


def test_an_administrator_rewords_a_playbook_and_can_go_back_to_the_default(
    personas: Personas,
) -> None:
    admin = login_client(Client(), personas.admin)
    admin.post(
        "/flow/playbooks/edit/",
        {"scenario": "system_outage", "steps": "Call Dana on 555-0100.\n\n  Use paper slips. "},
    )
    playbook = Playbook.objects.get(clinic=personas.clinic, scenario="system_outage")
    assert playbook.steps == "Call Dana on 555-0100.\nUse paper slips."
    desk = login_client(Client(), personas.front_desk)
    assert "<li>Call Dana on 555-0100.</li>" in desk.get("/flow/playbooks/").content.decode()

    admin.post("/flow/playbooks/edit/", {"scenario": "system_outage", "steps": ""})
    assert not Playbook.objects.exists()
    assert "Use the printed day list" in desk.get("/flow/playbooks/").content.decode()
    assert admin.post("/flow/playbooks/edit/", {"scenario": "nap"}).status_code == 404
    assert desk.get("/flow/playbooks/edit/").status_code == 403
