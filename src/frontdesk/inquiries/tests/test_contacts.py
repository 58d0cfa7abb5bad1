"""Who may hear what: a caller who is not the patient is checked against the patient's
recorded contacts and representatives; the chart shows the list; changes are audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.disclosure import NOT_AUTHORISED, disclosure_verdict
from frontdesk.inquiries.models import Inquiry, PatientContact
from frontdesk.inquiries.services import (
    ContactValues,
    InquiryRefusedError,
    contact_remove,
    contact_save,
)
from frontdesk.patients.models import Patient

from .helpers import log_call

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 8)


def _contact(patient: Patient, **fields: object) -> PatientContact:
    values: dict[str, object] = {
        "clinic_id": patient.clinic_id,
        "patient": patient,
        "name": "Mary Smith",
        "relationship": "parent",
        "may_hear": "appointments",
        "created_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    values.update(fields)
    return PatientContact.objects.create(**values)


def test_a_contact_allowed_appointments_only_hears_exactly_that(patient: Patient) -> None:
    mother = _contact(patient)
    verdict = disclosure_verdict(caller_kind="contact", contact=mother, today=TODAY)
    assert verdict.words == "You may discuss appointments only"
    assert verdict.allowed
    billing = disclosure_verdict(
        caller_kind="contact", contact=mother, today=TODAY, category="billing"
    )
    assert billing.category_note == (
        "Do not discuss this billing with them: take a message for the patient."
    )


def test_someone_not_on_the_list_is_told_nothing(patient: Patient) -> None:
    verdict = disclosure_verdict(caller_kind="other", contact=None, today=TODAY)
    assert verdict.words == "Do not disclose: not an authorised contact" == NOT_AUTHORISED
    assert not verdict.allowed


def test_a_permission_that_has_ended_is_no_permission(patient: Patient) -> None:
    carer = _contact(patient, relationship="carer", may_hear="everything", valid_until=TODAY)
    assert disclosure_verdict(caller_kind="contact", contact=carer, today=TODAY).allowed
    after = disclosure_verdict(
        caller_kind="contact", contact=carer, today=TODAY + dt.timedelta(days=1)
    )
    assert not after.allowed
    assert after.words.startswith(NOT_AUTHORISED)
    assert "ended on Dec 8, 2026" in after.words


@pytest.mark.parametrize(
    ("may_hear", "words"),
    [
        ("nothing", "Do not disclose: this contact may not be told anything"),
        ("billing", "You may discuss appointments and billing only"),
        ("everything", "You may discuss everything on the record"),
    ],
)
def test_each_level_says_plainly_what_may_be_discussed(
    patient: Patient, may_hear: str, words: str
) -> None:
    contact = _contact(patient, may_hear=may_hear)
    assert disclosure_verdict(caller_kind="contact", contact=contact, today=TODAY).words == words


def test_a_logged_call_from_a_contact_keeps_what_the_desk_was_told(
    personas: Personas, patient: Patient
) -> None:
    mother = _contact(patient)
    inquiry = log_call(
        personas.front_desk,
        patient,
        caller_kind="contact",
        contact_id=mother.pk,
        category="appointment",
    )
    assert (inquiry.disclosure, inquiry.caller_name) == ("appointments", "Mary Smith")


def test_another_patients_contact_cannot_be_chosen(personas: Personas, patient: Patient) -> None:
    from conftest import make_patient

    other = make_patient(personas.clinic, given_name="Ann")
    stranger = _contact(other)
    with pytest.raises(InquiryRefusedError, match="not on this patient's list"):
        log_call(personas.front_desk, patient, caller_kind="contact", contact_id=stranger.pk)
    assert not Inquiry.objects.exists()


def test_the_disclosure_sentence_appears_as_the_caller_is_chosen(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    mother = _contact(patient)
    client = client_for(personas.front_desk)
    url = reverse("inquiries:disclosure", args=[patient.pk])
    shown = client.get(url, {"caller": f"contact:{mother.pk}", "category": "appointment"})
    assert "You may discuss appointments only" in shown.content.decode()
    other = client.get(url, {"caller": "other"})
    assert "Do not disclose: not an authorised contact" in other.content.decode()
    # A contact id that is no id (a superscript digit, too many digits) is nobody on the list.
    for made_up in ("contact:²", "contact:" + "9" * 40):
        answer = client.get(url, {"caller": made_up})
        assert answer.status_code == 200
        assert NOT_AUTHORISED in answer.content.decode()


def test_the_chart_lists_the_contacts_with_what_they_may_hear(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    _contact(patient, name="Grace Okafor", relationship="power_of_attorney", may_hear="billing")
    page = client_for(personas.front_desk).get(reverse("patients:chart", args=[patient.pk]))
    body = page.content.decode()
    assert "Contacts and representatives" in body
    assert "Grace Okafor" in body
    assert "Billing and appointments" in body
    assert reverse("inquiries:contact_new", args=[patient.pk]) in body
    # A nurse reads the list but does not change it.
    nurse_page = client_for(personas.nurse).get(reverse("patients:chart", args=[patient.pk]))
    assert "Grace Okafor" in nurse_page.content.decode()
    assert reverse("inquiries:contact_new", args=[patient.pk]) not in nurse_page.content.decode()


def test_adding_changing_and_removing_a_contact_is_audited(
    personas: Personas, patient: Patient
) -> None:
    values = ContactValues(
        name="Tom Smith",
        relationship="guardian",
        phone="202 555 0199",
        may_hear="everything",
        valid_until=None,
        note="Court order on file",
    )
    contact = contact_save(
        context=SYSTEM_CONTEXT, user=personas.front_desk, patient=patient, values=values
    )
    assert contact.phone == "+12025550199"
    contact_save(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        values=ContactValues(**{**values.__dict__, "may_hear": "appointments"}),
        contact_id=contact.pk,
    )
    contact_remove(
        context=SYSTEM_CONTEXT, user=personas.front_desk, patient=patient, contact_id=contact.pk
    )
    assert not PatientContact.objects.exists()
    events = list(AuditEvent.objects.filter(object_type="patient_contact").order_by("seq"))
    assert [e.action for e in events] == ["create", "update", "update"]
    assert [e.detail.get("may_hear") for e in events] == [
        "everything",
        "appointments",
        "appointments",
    ]
    assert events[-1].detail["event"] == "removed"
    assert all(e.patient_ids == [patient.pk] for e in events)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": "  "}, "Write the contact's name"),
        ({"phone": "not a phone"}, "does not look like a phone number"),
        ({"valid_until": dt.date(2020, 1, 1)}, "That date has passed"),
        ({"may_hear": "gossip"}, "Choose what they may be told"),
    ],
)
def test_a_contact_with_bad_details_is_refused_in_words(
    personas: Personas, patient: Patient, change: dict[str, object], words: str
) -> None:
    values: dict[str, object] = {
        "name": "Tom Smith",
        "relationship": "guardian",
        "phone": "",
        "may_hear": "everything",
        "valid_until": None,
        "note": "",
    }
    values.update(change)
    with pytest.raises(InquiryRefusedError, match=words):
        contact_save(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            patient=patient,
            values=ContactValues(**values),  # type: ignore[arg-type]
        )
    assert not PatientContact.objects.exists()


def test_the_contact_form_keeps_what_was_typed_when_refused(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        reverse("inquiries:contact_new", args=[patient.pk]),
        {"name": "Tom Smith", "relationship": "guardian", "phone": "12", "may_hear": "everything"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Tom Smith" in body
    assert "not a valid phone number" in body


def test_staff_of_another_clinic_cannot_see_or_change_the_contacts(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    mother = _contact(patient)
    client = client_for(personas.outsider)
    url = reverse("inquiries:contact_edit", args=[patient.pk, mother.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Hacker"}).status_code == 404
    mother.refresh_from_db()
    assert mother.name == "Mary Smith"


def test_the_desk_records_the_usual_provider_from_the_chart_and_questions_go_there(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    from frontdesk.clinic.models import Provider
    from frontdesk.inquiries.models import MedicalQuestion

    provider = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Phil",
        family_name="Rivera",
        specialty="Family medicine",
        staff_user=personas.physician,
    )
    client = client_for(personas.front_desk)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Medical questions go to" in chart
    url = reverse("inquiries:usual_provider", args=[patient.pk])
    assert client.post(url, {"provider": provider.pk}).status_code == 302
    inquiry = log_call(
        personas.front_desk, patient, category="medical_question", message="Dizzy in the mornings"
    )
    assert MedicalQuestion.objects.get(inquiry=inquiry).owner == personas.physician
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Questions go to Phil Rivera (usual provider)" in chart
    assert AuditEvent.objects.filter(detail__event="usual_provider").count() == 1
    refused = client.post(url, {"provider": 999999}, follow=True)
    assert "Choose one of the clinic&#x27;s providers" in refused.content.decode()


def test_a_call_sent_back_still_says_what_may_be_told_to_the_caller_chosen(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    mother = _contact(patient)
    client = client_for(personas.front_desk)
    url = reverse("inquiries:call_new")
    typed = {
        "patient": patient.pk,
        "caller": f"contact:{mother.pk}",
        "category": "billing",
        "message": "Asks what the March invoice was for",
        "callback_phone": "not a number",
    }
    body = client.post(url, typed).content.decode()
    assert "does not look like a phone number" in body
    assert "You may discuss appointments only" in body
    assert "Do not discuss this billing with them: take a message for the patient." in body
    named = client.post(
        url, {**typed, "caller": "", "caller_name": "Jo Bloggs", "caller_relationship": "friend"}
    ).content.decode()
    assert NOT_AUTHORISED in named
    assert not Inquiry.objects.exists()
    # Nothing is said before a caller is chosen.
    fresh = client.get(url, {"patient": patient.pk}).content.decode()
    assert NOT_AUTHORISED not in fresh and "You may discuss" not in fresh
