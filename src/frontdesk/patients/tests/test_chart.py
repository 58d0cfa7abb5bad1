from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.patients.models import Coverage, Patient, Payer


def test_the_chart_shows_demographics_and_coverages(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    payer = Payer.objects.create(clinic=personas.clinic, name="Blue Harbor Health")
    Coverage.objects.create(patient=patient, payer=payer, rank=1, member_id="BHH123456")
    html = client_for(personas.front_desk).get(f"/patients/{patient.pk}/").content.decode()
    assert "Smith, John" in html and patient.mrn in html
    assert "Blue Harbor Health" in html and "BHH123456" in html
    assert "January 2, 1980" in html


def test_a_merged_record_opens_its_surviving_record(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    old = make_patient(personas.clinic, given_name="Jon", merged_into=patient, is_active=False)
    html = client_for(personas.front_desk).get(f"/patients/{old.pk}/").content.decode()
    assert patient.mrn in html and "was merged" in html


def test_the_chart_uses_a_fixed_number_of_queries(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    payer = Payer.objects.create(clinic=personas.clinic, name="Acme")
    client = client_for(personas.front_desk)
    client.get(f"/patients/{patient.pk}/")  # warm up: the session and the audit chain's head
    Coverage.objects.create(patient=patient, payer=payer, rank=1, member_id="A1")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/patients/{patient.pk}/")
    Coverage.objects.create(patient=patient, payer=payer, rank=2, member_id="A2")
    with CaptureQueriesContext(connection) as two:
        client.get(f"/patients/{patient.pk}/")
    assert len(one) == len(two)


def test_the_start_page_lists_patients_opened_recently(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    first = make_patient(personas.clinic, family_name="Abbott", updated_at=timezone.now())
    second = make_patient(personas.clinic, family_name="Baker")
    client = client_for(personas.front_desk)
    client.get(f"/patients/{first.pk}/")
    client.get(f"/patients/{second.pk}/")
    html = client.get("/").content.decode()
    assert html.index("Baker") < html.index("Abbott")
    assert "Baker" not in client_for(personas.nurse).get("/").content.decode()
