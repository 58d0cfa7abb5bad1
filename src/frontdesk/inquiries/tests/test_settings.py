"""The clinic's settings page: red-flag phrases and deadlines, for supervisors and
administrators; a pattern RE2 cannot use is refused in words; the list is the clinic's own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.inquiries.models import InquirySettings, MedicalQuestion
from frontdesk.inquiries.red_flags import DEFAULT_RED_FLAGS
from frontdesk.patients.models import Patient

from .helpers import log_call

pytestmark = pytest.mark.django_db


def _form(**change: object) -> dict[str, object]:
    values: dict[str, object] = {
        "callback_max_attempts": 3,
        "callback_retry_minutes": 60,
        "callback_routine_hours": 4,
        "callback_urgent_minutes": 30,
        "question_urgent_minutes": 60,
        "question_routine_business_days": 1,
        "red_flag_phrases": DEFAULT_RED_FLAGS + "\nblue lips\n",
        "version": 1,
    }
    values.update(change)
    return values


def test_a_supervisor_adds_a_red_flag_phrase_and_it_is_used_for_the_clinic_only(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.supervisor)
    url = reverse("inquiries:settings")
    assert "chest pain" in client.get(url).content.decode()
    response = client.post(url, _form())
    assert response.status_code == 302
    saved = InquirySettings.objects.get(clinic=personas.clinic)
    assert "blue lips" in saved.red_flag_phrases.splitlines()
    assert AuditEvent.objects.filter(object_type="inquiry_settings").count() == 1
    inquiry = log_call(
        personas.front_desk,
        patient,
        category="medical_question",
        message="The baby has Blue Lip since this morning",
    )
    assert MedicalQuestion.objects.get(inquiry=inquiry).red_flag
    assert not InquirySettings.objects.filter(clinic=personas.other_clinic).exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"red_flag_phrases": "chest pain\nre:(a+)+\\1"}, "referring back to a group"),
        ({"red_flag_phrases": "  \n "}, "This field is required"),
        ({"callback_max_attempts": 0}, "greater than or equal to 1"),
        ({"question_routine_business_days": 9}, "less than or equal to 5"),
    ],
)
def test_bad_settings_are_refused_in_words_and_keep_what_was_typed(
    personas: Personas,
    client_for: Callable[[User], Client],
    change: dict[str, object],
    words: str,
) -> None:
    response = client_for(personas.admin).post(reverse("inquiries:settings"), _form(**change))
    body = response.content.decode()
    assert response.status_code == 200
    assert words in body
    assert not InquirySettings.objects.exists()


def test_a_save_over_a_newer_one_is_refused(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.supervisor)
    url = reverse("inquiries:settings")
    assert client.post(url, _form()).status_code == 302
    stale = client.post(url, _form(callback_max_attempts=5))
    assert "Someone saved these settings after you opened them" in stale.content.decode()
    assert InquirySettings.objects.get().callback_max_attempts == 3


def test_the_front_desk_cannot_change_the_red_flag_list(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(reverse("inquiries:settings"), _form())
    assert response.status_code == 403
    assert not InquirySettings.objects.exists()


def test_the_live_check_returns_the_emergency_script_only_for_a_red_flag(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    url = reverse("inquiries:red_flag_check")
    flagged = client.post(url, {"message": "SEVERE BLEEDNG", "category": "medical_question"})
    assert "Possible emergency" in flagged.content.decode()
    assert "Emergency at the desk" in flagged.content.decode()
    quiet = client.post(url, {"message": "When is my next visit?", "category": "appointment"})
    assert "Possible emergency" not in quiet.content.decode()
    negated = client.post(url, {"message": "no chest pain today", "category": "medical_question"})
    assert "ask the caller directly" in negated.content.decode()


def test_the_lists_cost_a_fixed_number_of_queries(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    from conftest import make_patient

    for index in range(6):
        patient = make_patient(personas.clinic, given_name=f"P{index}")
        log_call(personas.front_desk, patient)
        log_call(personas.front_desk, patient, category="medical_question", message="Rash?")
    desk, nurse = client_for(personas.front_desk), client_for(personas.nurse)
    desk.get(reverse("inquiries:callbacks"))
    nurse.get(reverse("inquiries:questions"))
    with CaptureQueriesContext(connection) as six:
        page = desk.get(reverse("inquiries:callbacks"))
    assert page.content.decode().count("<tr") == 7
    with CaptureQueriesContext(connection) as six_questions:
        page = nurse.get(reverse("inquiries:questions"))
    assert page.content.decode().count("<tr") == 7
    for index in range(6, 12):
        patient = make_patient(personas.clinic, given_name=f"P{index}")
        log_call(personas.front_desk, patient)
        log_call(personas.front_desk, patient, category="medical_question", message="Rash?")
    # Twice the rows, the same queries: nothing is fetched row by row.
    with CaptureQueriesContext(connection) as twelve:
        desk.get(reverse("inquiries:callbacks"))
    with CaptureQueriesContext(connection) as twelve_questions:
        nurse.get(reverse("inquiries:questions"))
    assert len(twelve) == len(six)
    assert len(twelve_questions) == len(six_questions)
