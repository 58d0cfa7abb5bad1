"""Someone else's name, relationship and number typed on one line of the call form: split into
their fields (as the page's script does), and a typed name alone says who is calling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.inquiries.forms import caller_line_split
from frontdesk.inquiries.models import Callback, Inquiry
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        ("Maria Alvarez", ("Maria Alvarez", "", "")),
        ("Maria Alvarez, neighbour", ("Maria Alvarez", "neighbour", "")),
        (
            "Maria Alvarez, neighbour, (202) 555-0143",
            ("Maria Alvarez", "neighbour", "(202) 555-0143"),
        ),
        ("Maria Alvarez, 202 555 0143, his aunt", ("Maria Alvarez", "his aunt", "202 555 0143")),
        (" , Maria Alvarez ,, +1 202 555 0143 ", ("Maria Alvarez", "", "+1 202 555 0143")),
    ],
)
def test_a_caller_line_is_split_into_name_relationship_and_number(
    line: str, parts: tuple[str, str, str]
) -> None:
    assert caller_line_split(line) == parts


def test_a_call_from_someone_who_is_not_a_patient_is_logged_from_one_line(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        reverse("inquiries:call_new"),
        {
            "caller": "",
            "caller_name": "Maria Alvarez, neighbour, (202) 555-0143",
            "category": "other",
            "message": "Is the clinic open on Saturday?",
            "callback_wanted": "on",
        },
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert (inquiry.caller_kind, inquiry.caller_name, inquiry.caller_relationship) == (
        "other",
        "Maria Alvarez",
        "neighbour",
    )
    assert Callback.objects.get(inquiry=inquiry).phone == "+12025550143"


def test_a_number_on_the_caller_line_wins_over_the_patients_own(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        reverse("inquiries:call_new"),
        {
            "patient": patient.pk,
            "caller_name": "Tom Reyes, neighbour, 202 555 0188",
            "category": "appointment",
            "message": "Can she come later today?",
            "callback_phone": patient.phone,
            "callback_wanted": "on",
        },
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert (inquiry.caller_kind, inquiry.disclosure) == ("other", "nothing")
    assert inquiry.callback_phone == "+12025550188"


def test_no_caller_chosen_and_no_name_is_refused_in_words_keeping_the_message(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        reverse("inquiries:call_new"),
        {"caller": "", "category": "other", "message": "Please call me about parking"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose who is calling, or type the caller&#x27;s name." in body
    assert "Please call me about parking" in body
    assert not Inquiry.objects.exists()
