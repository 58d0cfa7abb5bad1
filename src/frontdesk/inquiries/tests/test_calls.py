"""Logging a call: what it opens (a callback, a question for a clinician), bad input refused in
words, and the pages keeping what was typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import Provider
from frontdesk.desk.live import desk_version
from frontdesk.desk.pools import Pool
from frontdesk.inquiries.desk import CallbackSource, QuestionSource
from frontdesk.inquiries.models import Callback, Inquiry, MedicalQuestion, UsualProvider
from frontdesk.inquiries.services import InquiryRefusedError
from frontdesk.patients.models import Patient

from .helpers import log_call, rows

pytestmark = pytest.mark.django_db

# Tuesday 8 December 2026, 10:00 in New York (the clinic's zone).
TUESDAY = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)


def test_a_call_with_a_callback_enters_the_desk_queue_and_is_audited(
    personas: Personas, patient: Patient
) -> None:
    before = desk_version(personas.clinic.pk)
    inquiry = log_call(personas.front_desk, patient, now=TUESDAY)
    callback = Callback.objects.get(inquiry=inquiry)
    assert callback.phone == "+12025550143"
    assert callback.pool == Pool.DESK
    assert callback.due == TUESDAY + dt.timedelta(hours=4)
    (row,) = rows(CallbackSource(), personas.clinic.pk, TUESDAY)
    assert row == {
        "ref": callback.pk,
        "patient_id": patient.pk,
        "due": callback.due,
        "since": TUESDAY,
        "red_flag": False,
        "patient_waiting": False,
        "owner_id": None,
        "pool": "desk",
    }
    assert desk_version(personas.clinic.pk) > before
    events = AuditEvent.objects.filter(object_type__in=["inquiry", "callback"])
    assert {e.object_type for e in events} == {"inquiry", "callback"}
    assert all(e.patient_ids == [patient.pk] for e in events)


def test_an_urgent_callback_is_due_sooner(personas: Personas, patient: Patient) -> None:
    inquiry = log_call(personas.front_desk, patient, now=TUESDAY, urgency="urgent")
    callback = Callback.objects.get(inquiry=inquiry)
    assert (callback.due, callback.priority) == (TUESDAY + dt.timedelta(minutes=30), "urgent")


def test_a_medical_question_goes_to_nurse_triage_when_no_usual_provider_is_recorded(
    personas: Personas, patient: Patient
) -> None:
    inquiry = log_call(
        personas.front_desk,
        patient,
        now=TUESDAY,
        category="medical_question",
        message="Can I take ibuprofen with my blood pressure tablets?",
    )
    question = MedicalQuestion.objects.get(inquiry=inquiry)
    assert (question.pool, question.owner, question.red_flag) == (Pool.NURSE_TRIAGE, None, False)
    assert question.question == "Can I take ibuprofen with my blood pressure tablets?"
    # A medical question is the clinician's; no callback of the desk's is opened for it.
    assert not Callback.objects.filter(inquiry=inquiry).exists()
    (row,) = rows(QuestionSource(), personas.clinic.pk, TUESDAY)
    assert (row["pool"], row["red_flag"], row["ref"]) == ("nurse_triage", False, question.pk)


def test_a_medical_question_goes_to_the_patients_usual_provider_when_recorded(
    personas: Personas, patient: Patient
) -> None:
    provider = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Phil",
        family_name="Rivera",
        specialty="Family medicine",
        staff_user=personas.physician,
    )
    UsualProvider.objects.create(patient=patient, provider=provider)
    inquiry = log_call(
        personas.front_desk, patient, now=TUESDAY, category="medical_question", message="Rash?"
    )
    question = MedicalQuestion.objects.get(inquiry=inquiry)
    assert (question.pool, question.owner, question.routed_to) == (
        Pool.CLINICIANS,
        personas.physician,
        "Phil Rivera",
    )


def test_a_red_flag_raises_the_question_to_now(personas: Personas, patient: Patient) -> None:
    inquiry = log_call(
        personas.front_desk,
        patient,
        now=TUESDAY,
        category="medical_question",
        message="My husband has CHEST PIANS and his left arm feels weak",
    )
    question = MedicalQuestion.objects.get(inquiry=inquiry)
    assert question.red_flag is True
    assert question.priority == "stat"
    assert question.due == TUESDAY
    assert {m["phrase"] for m in question.red_flag_phrases} >= {"chest pain", "arm weakness"}
    (row,) = rows(QuestionSource(), personas.clinic.pk, TUESDAY)
    assert row["red_flag"] is True


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"message": "   "}, "Write the message"),
        ({"message": "x" * 4001}, "Keep the message to 4,000 characters"),
        ({"callback_phone": "call me maybe"}, "does not look like a phone number"),
        ({"callback_phone": "555"}, "not a valid phone number"),
        ({"callback_phone": ""}, "Write a number to call back on"),
        ({"category": "gossip"}, "Choose what the call is about"),
    ],
)
def test_bad_input_is_refused_in_words_and_nothing_is_saved(
    personas: Personas, patient: Patient, fields: dict[str, str], words: str
) -> None:
    with pytest.raises(InquiryRefusedError, match=words):
        log_call(personas.front_desk, patient, now=TUESDAY, **fields)
    assert not Inquiry.objects.exists()
    assert not Callback.objects.exists()


def test_a_caller_who_is_not_the_patient_must_be_named(personas: Personas) -> None:
    with pytest.raises(InquiryRefusedError, match="caller's name"):
        log_call(personas.front_desk, None, now=TUESDAY, caller_name="  ")


def test_a_medical_question_needs_the_patient(personas: Personas) -> None:
    with pytest.raises(InquiryRefusedError, match="find the patient first"):
        log_call(personas.front_desk, None, now=TUESDAY, category="medical_question")


def test_another_clinics_patient_cannot_be_named_on_a_call(personas: Personas) -> None:
    stranger = make_patient(personas.other_clinic)
    with pytest.raises(InquiryRefusedError, match="not one of this clinic's"):
        log_call(personas.front_desk, stranger, now=TUESDAY)


def test_the_page_keeps_what_was_typed_when_the_number_is_refused(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    url = reverse("inquiries:call_new")
    response = client.post(
        url,
        {
            "patient": patient.pk,
            "caller": "patient",
            "category": "billing",
            "message": "The invoice from March looks doubled",
            "callback_phone": "not a number",
            "callback_wanted": "on",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "does not look like a phone number" in body
    assert "The invoice from March looks doubled" in body
    assert "not a number" in body
    assert not Inquiry.objects.exists()


def test_a_complaint_call_leads_on_to_the_complaints_intake(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    inquiry = log_call(
        personas.front_desk,
        patient,
        now=TUESDAY,
        category="complaint",
        message="Waited 90 minutes and nobody said why",
        callback_wanted=False,
    )
    response = client_for(personas.front_desk).get(reverse("inquiries:call", args=[inquiry.pk]))
    assert f'href="/complaints/new/?patient={patient.pk}"' in response.content.decode()


@time_machine.travel(TUESDAY, tick=False)
def test_logging_a_call_on_the_page_redirects_to_it_and_shows_the_emergency_script_first(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    response = client.post(
        reverse("inquiries:call_new"),
        {
            "patient": patient.pk,
            "caller": "patient",
            "category": "medical_question",
            "message": "I have trouble breathing since lunch",
            "callback_phone": "",
        },
    )
    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inquiries:call", args=[inquiry.pk])
    page = client.get(response["Location"]).content.decode()
    script = page.index("Red flag: follow the emergency script now")
    assert script < page.index("<h1>")
    assert "Emergency at the desk" in page


def test_a_call_about_a_restricted_record_asks_for_a_reason_first(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    hidden = make_patient(personas.clinic, given_name="Vera", confidentiality="restricted")
    response = client_for(personas.front_desk).get(
        reverse("inquiries:call_new"), {"patient": hidden.pk}
    )
    assert "Vera" not in response.content.decode()
    assert response.status_code == 302
    assert reverse("patients:break_glass", args=[hidden.pk]) in response["Location"]


def test_a_red_flag_in_a_call_of_another_kind_still_shows_the_emergency_script(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    inquiry = log_call(
        personas.front_desk,
        patient,
        now=TUESDAY,
        category="appointment",
        message="Wants to book today, says she has chest pain",
    )
    page = client_for(personas.front_desk).get(reverse("inquiries:call", args=[inquiry.pk]))
    body = page.content.decode()
    assert body.index("Red flag: follow the emergency script now") < body.index("<h1>")
    assert "log it as one so a clinician answers now" in body


def test_a_call_sent_back_for_a_missing_field_still_shows_the_emergency_script(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    url = reverse("inquiries:call_new")
    typed = {
        "patient": patient.pk,
        "caller": "patient",
        "category": "",
        "message": "Crushing chest pain since this morning",
    }
    response = client.post(url, typed)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose what the call is about." in body
    assert "Possible emergency: “chest pain”" in body
    assert "Follow the emergency script now, before anything else." in body
    assert body.index("Possible emergency") < body.index("Crushing chest pain since")
    assert not Inquiry.objects.exists()
    # Words with no red flag, sent back the same way, show no script.
    calm = client.post(url, {**typed, "message": "Asks whether we are open on Saturday"})
    assert "Possible emergency" not in calm.content.decode()
    assert "Possible emergency" not in client.get(url, {"patient": patient.pk}).content.decode()
