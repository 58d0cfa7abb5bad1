"""The desk queue page: who may open it, the rows it shows, and the htmx buttons' answers in
plain words that keep what was typed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent, AuditObject
from frontdesk.desk.models import DeskItem
from frontdesk.desk.tests.conftest import MakeAppointment

pytestmark = pytest.mark.usefixtures("frozen")

QUEUE = "/desk/"
HTMX = {"HX-Request": "true"}


def item_url(appointment_id: int) -> str:
    return reverse("desk:item", args=["unconfirmed", appointment_id])


def test_the_front_desk_lands_on_the_desk_queue_after_signing_in(personas: Personas) -> None:
    response = Client().post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response["Location"] == QUEUE
    nurse = Client().post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})
    assert nurse["Location"] == "/"


def test_the_page_shows_each_row_with_its_reason_and_records_the_look(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    appointment = make_appointment(start=timezone.now() + dt.timedelta(minutes=12))
    page = client_for(personas.front_desk).get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Due in 12 min" in html
    assert "Confirm the appointment" in html
    assert f"{appointment.patient.family_name}, {appointment.patient.given_name}" in html
    assert 'id="global-search"' in html  # search stays one key away
    event = AuditEvent.objects.get(object_type=AuditObject.DESK_QUEUE)
    assert event.patient_ids == [appointment.patient_id]


def test_a_filtered_queue_leaves_the_patient_search_box_empty_and_keeps_its_filter_live(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    make_appointment()
    html = client_for(personas.front_desk).get(QUEUE, {"show": "unassigned"}).content.decode()
    search_box = re.search(r'<input id="global-search"[^>]*>', html)
    assert search_box is not None
    assert 'value=""' in search_box.group(0)
    assert "show=unassigned" not in search_box.group(0)
    # The live part asks for the same filter.
    assert 'data-fragment-url="/desk/live/?show=unassigned"' in html


def test_an_administrator_has_no_desk_queue(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    assert client_for(personas.admin).get(QUEUE).status_code == 403


def test_claiming_by_htmx_answers_the_list_with_the_item_now_mine(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    appointment = make_appointment()
    response = client_for(personas.front_desk).post(
        item_url(appointment.pk), {"do": "claim"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "It is yours now." in html and "<strong>You</strong>" in html
    assert DeskItem.objects.get().claimed_by == personas.front_desk


def test_a_claim_taken_by_someone_else_is_said_in_words(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    appointment = make_appointment()
    client_for(personas.supervisor).post(item_url(appointment.pk), {"do": "claim"}, headers=HTMX)
    response = client_for(personas.front_desk).post(
        item_url(appointment.pk), {"do": "claim"}, headers=HTMX
    )
    assert "Sue already has this item (claimed at 10:00)" in response.content.decode()


def test_a_snooze_without_a_reason_or_in_the_past_is_refused_and_keeps_what_was_typed(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    appointment = make_appointment()
    client = client_for(personas.front_desk)
    # 10:00 in New York now: 09:00 has passed.
    past = client.post(
        item_url(appointment.pk),
        {"do": "snooze", "until": "2026-11-23T09:00", "reason": "Call after the school run"},
        headers=HTMX,
    ).content.decode()
    assert "That time has already passed" in past
    assert 'value="Call after the school run"' in past
    assert 'value="2026-11-23T09:00"' in past
    no_reason = client.post(
        item_url(appointment.pk), {"do": "snooze", "until": "2026-11-23T14:00", "reason": ""}
    )
    assert no_reason.status_code == 400
    assert "Say why you snooze it" in no_reason.content.decode()
    nonsense = client.post(
        item_url(appointment.pk),
        {"do": "snooze", "until": "tomorrowish", "reason": "x"},
        headers=HTMX,
    )
    assert "That is not a time" in nonsense.content.decode()
    done = client.post(
        item_url(appointment.pk),
        {"do": "snooze", "until": "2026-11-23T14:00", "reason": "Call after lunch"},
    )
    assert done.status_code == 302
    item = DeskItem.objects.get()
    assert item.snoozed_until == dt.datetime(2026, 11, 23, 19, 0, tzinfo=dt.UTC)
    assert item.snooze_reason == "Call after lunch"


def test_hand_over_to_someone_of_another_clinic_is_refused_in_words(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    appointment = make_appointment()
    response = client_for(personas.front_desk).post(
        item_url(appointment.pk), {"do": "hand_over", "to": f"person:{personas.outsider.pk}"}
    )
    assert response.status_code == 400
    assert "That person cannot take this item" in response.content.decode()
    assert not DeskItem.objects.exists()


def test_another_clinics_officer_gets_no_answer_about_the_item(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    appointment = make_appointment()
    response = client_for(personas.outsider).post(item_url(appointment.pk), {"do": "claim"})
    assert response.status_code == 409
    assert "no longer on the desk queue" in response.content.decode()
    assert appointment.patient.family_name not in response.content.decode()
    assert not DeskItem.objects.exists()


def test_the_live_part_answers_204_when_nothing_changed(
    personas: Personas,
    make_appointment: MakeAppointment,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    first = client.get(reverse("desk:queue_fragment"))
    assert first.status_code == 200
    version = first.content.decode().split('data-version="')[1].split('"')[0]
    assert client.get(reverse("desk:queue_fragment"), {"since": version}).status_code == 204
    make_appointment()  # not through a service: the page finds it at its next full refresh
    appointment = make_appointment()
    client.post(item_url(appointment.pk), {"do": "claim"})
    assert client.get(reverse("desk:queue_fragment"), {"since": version}).status_code == 200
