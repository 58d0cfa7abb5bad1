from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from conftest import Personas, login_client, make_patient
from frontdesk.flow.models import IncompleteRegistration, QueueEntry
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.usefixtures("frozen")

FORM = {
    "given_name": "Walter",
    "family_name": "Inman",
    "birth_date": "03/14/1985",
    "phone": "(202) 555-0161",
    "queue": "0",
    "priority": "normal",
}


def test_a_walk_in_is_registered_with_minimal_fields_flagged_incomplete_and_queued(
    personas: Personas,
) -> None:
    desk = login_client(Client(), personas.front_desk)
    response = desk.post("/flow/walk-in/", FORM, follow=True)
    assert "Walter Inman is in the queue: ticket W-001." in response.content.decode()
    patient = Patient.objects.get(family_name="Inman")
    assert patient.birth_date == dt.date(1985, 3, 14) and patient.phone == "+12025550161"
    assert IncompleteRegistration.objects.get(patient=patient).registered_by == personas.front_desk
    entry = QueueEntry.objects.get(patient=patient)
    assert entry.appointment is None and entry.queue.code == "W"


def test_an_emergency_walk_in_needs_a_reason_and_goes_first_to_the_providers_queue(
    personas: Personas, schedule: object
) -> None:
    desk = login_client(Client(), personas.front_desk)
    provider = personas.clinic.providers.get()
    form = {**FORM, "queue": str(provider.pk), "priority": "emergency"}
    refused = desk.post("/flow/walk-in/", form)
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "Say why this patient cannot wait their turn." in text
    assert 'value="Walter"' in text and 'value="Inman"' in text
    assert not Patient.objects.filter(family_name="Inman").exists()

    desk.post("/flow/walk-in/", {**form, "priority_reason": "bleeding heavily"})
    entry = QueueEntry.objects.get()
    assert entry.priority == "emergency" and entry.queue.provider == provider
    assert entry.priority_reason == "bleeding heavily" and entry.priority_rank == 0


def test_a_likely_known_patient_is_offered_instead_of_a_second_record(
    personas: Personas,
) -> None:
    known = make_patient(
        personas.clinic,
        given_name="Walter",
        family_name="Inman",
        birth_date=dt.date(1985, 3, 14),
        phone="+12025550161",
    )
    desk = login_client(Client(), personas.front_desk)
    offered = desk.post("/flow/walk-in/", FORM)
    assert offered.status_code == 400
    assert f"MRN {known.mrn}" in offered.content.decode()
    assert Patient.objects.count() == 1

    desk.post("/flow/walk-in/", {**FORM, "use_patient": str(known.pk)})
    assert QueueEntry.objects.get().patient == known
    assert not IncompleteRegistration.objects.exists()
    again = desk.post("/flow/walk-in/", {**FORM, "use_patient": str(known.pk)})
    assert "already in the queue with ticket W-001" in again.content.decode()


def test_bad_walk_in_input_is_explained_not_an_error_page(personas: Personas) -> None:
    desk = login_client(Client(), personas.front_desk)
    response = desk.post(
        "/flow/walk-in/",
        {**FORM, "birth_date": "31/31/2090", "phone": "12", "queue": "99999", "given_name": ""},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "That does not look like a phone number" in text or "not a valid phone" in text
    assert not QueueEntry.objects.exists()


def test_incomplete_walk_in_records_are_listed_on_today_until_marked_complete(
    personas: Personas,
) -> None:
    desk = login_client(Client(), personas.front_desk)
    desk.post("/flow/walk-in/", FORM)
    record = IncompleteRegistration.objects.get()
    today = desk.get("/flow/").content.decode()
    assert "Walk-in records to complete" in today and "Inman, Walter" in today
    desk.post("/flow/registrations/complete/", {"record": record.pk})
    record.refresh_from_db()
    assert record.completed_at is not None
    assert "Walk-in records to complete" not in desk.get("/flow/").content.decode()
    outsider = login_client(Client(), personas.outsider)
    assert outsider.post("/flow/registrations/complete/", {"record": record.pk}).status_code == 404
