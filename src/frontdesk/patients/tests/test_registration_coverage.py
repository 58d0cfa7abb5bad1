"""Insurance entered with the registration: one pass from the form through the read-back to the
chart, the patient and the primary coverage saved together or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.clinic.models import Clinic
from frontdesk.patients import services
from frontdesk.patients.models import Coverage, Patient, Payer

URL = "/patients/register/"


@pytest.fixture
def desk(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.front_desk)


@pytest.fixture
def payer(personas: Personas) -> Payer:
    return Payer.objects.create(
        clinic=personas.clinic,
        name="Bay Mutual",
        member_id_pattern=r"BM\d{6}",
        member_id_example="BM123456",
    )


def _registration(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Rosalind",
        "family_name": "Okonkwo",
        "birth_date": "11/23/1979",
        "sex": "female",
        "phone": "(415) 555-0177",
        "phone_kind": "mobile",
        "address_line1": "40 Valencia St",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94103",
        "country": "US",
        "preferred_contact": "phone",
        "guarantor_relationship": "self",
        "confidentiality": "normal",
    }
    data.update(overrides)
    return data


def _coverage(payer: Payer, **overrides: Any) -> dict[str, Any]:
    data = {
        "coverage-payer": str(payer.pk),
        "coverage-member_id": "bm 654 321",
        "coverage-copay": "$25",
        "coverage-relationship": "self",
        "coverage-group_number": "GRP-77",
        "coverage-effective_date": "01/01/2026",
    }
    data.update({f"coverage-{name}": value for name, value in overrides.items()})
    return data


def _context(user: User) -> AuditContext:
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test")


def test_the_patient_and_the_coverage_are_saved_together_and_both_audited(
    desk: Client, payer: Payer
) -> None:
    response = desk.post(URL, {**_registration(), **_coverage(payer), "step": "confirm"})
    patient = Patient.objects.get()
    assert response["Location"] == f"/patients/{patient.pk}/"
    coverage = Coverage.objects.get(patient=patient)
    assert (coverage.payer, coverage.rank, coverage.member_id) == (payer, 1, "BM654321")
    assert coverage.copay == Decimal("25.00")
    assert coverage.group_number == "GRP-77"
    assert coverage.effective_date == dt.date(2026, 1, 1)
    assert not coverage.card_front and not coverage.card_back
    created = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient")
    assert created.detail["coverage"] == {"payer": "Bay Mutual", "rank": 1}
    coverage_event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="coverage")
    assert coverage_event.object_id == str(coverage.pk)
    assert coverage_event.patient_ids == [patient.pk]
    chart = desk.get(response["Location"]).content.decode()
    assert "BM654321" in chart


def test_the_read_back_shows_the_coverage_and_carries_it_to_the_save(
    desk: Client, payer: Payer
) -> None:
    html = desk.post(
        URL, {**_registration(), **_coverage(payer), "step": "review"}
    ).content.decode()
    assert "Bay Mutual" in html
    assert "B-M-6-5-4-3-2-1" in html
    assert "$25.00" in html
    assert 'name="coverage-member_id" value="bm 654 321"' in html
    assert 'name="coverage-copay" value="$25"' in html
    assert f'name="coverage-payer" value="{payer.pk}"' in html
    assert not Patient.objects.exists()


def test_the_registration_page_says_the_card_image_is_added_from_the_chart(desk: Client) -> None:
    html = desk.get(URL).content.decode()
    assert "Insurance (optional)" in html
    assert "Add the card image from the chart" in html
    assert 'type="file"' not in html


def test_a_bad_member_id_gets_the_payers_message_and_keeps_everything_typed(
    desk: Client, payer: Payer
) -> None:
    response = desk.post(
        URL, {**_registration(), **_coverage(payer, member_id="XY-99"), "step": "review"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bay Mutual member IDs look different such as BM123456" in html
    for kept in (
        'value="Rosalind"',
        'value="40 Valencia St"',
        'value="XY-99"',
        'value="$25"',
        'value="GRP-77"',
        f'<option value="{payer.pk}" selected>',
        '<option value="self" selected>Self</option>',
    ):
        assert kept in html
    assert not Patient.objects.exists()


def test_a_chosen_payer_without_a_member_id_is_asked_for_in_words(
    desk: Client, payer: Payer
) -> None:
    response = desk.post(
        URL,
        {
            **_registration(),
            "coverage-payer": str(payer.pk),
            "coverage-relationship": "",
            "step": "review",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Type the member ID from the insurance card." in html
    assert "Choose how the patient is related to the subscriber." in html


def test_no_insurance_typed_registers_no_coverage(desk: Client) -> None:
    blank = {
        "coverage-payer": "",
        "coverage-member_id": "  ",
        "coverage-copay": "",
        "coverage-relationship": "",
    }
    response = desk.post(URL, {**_registration(), **blank, "step": "confirm"})
    assert response.status_code == 302
    assert Patient.objects.count() == 1
    assert not Coverage.objects.exists()
    assert not AuditEvent.objects.filter(object_type="coverage").exists()
    assert "coverage" not in AuditEvent.objects.get(object_type="patient").detail


def test_a_page_posted_without_the_insurance_block_still_registers(desk: Client) -> None:
    assert desk.post(URL, {**_registration(), "step": "confirm"}).status_code == 302
    assert Patient.objects.count() == 1 and not Coverage.objects.exists()


def test_the_insurance_typed_is_kept_through_the_duplicate_check_and_the_reason(
    desk: Client, payer: Payer, personas: Personas
) -> None:
    existing = make_patient(
        personas.clinic,
        given_name="Rosalind",
        family_name="Okonkwo",
        birth_date=dt.date(1979, 11, 23),
        phone="+14155550177",
    )
    typed = {**_registration(), **_coverage(payer)}
    review = desk.post(URL, {**typed, "step": "review"}).content.decode()
    assert existing.mrn in review
    assert 'name="coverage-member_id" value="bm 654 321"' in review
    refused = desk.post(URL, {**typed, "step": "confirm", "override_reason": "twins"})
    assert refused.status_code == 409
    assert 'name="coverage-member_id" value="bm 654 321"' in refused.content.decode()
    assert Patient.objects.count() == 1
    changed = desk.post(URL, {**typed, "step": "edit"}).content.decode()
    assert 'value="bm 654 321"' in changed and 'value="$25"' in changed
    saved = desk.post(
        URL,
        {**typed, "step": "confirm", "override_reason": "Checked photo ID: twin sister"},
    )
    assert saved.status_code == 302
    new = Patient.objects.exclude(pk=existing.pk).get()
    assert Coverage.objects.get().patient == new


def test_a_coverage_the_service_refuses_undoes_the_whole_registration(
    personas: Personas, payer: Payer
) -> None:
    data = {
        "given_name": "Rosalind",
        "family_name": "Okonkwo",
        "birth_date": dt.date(1979, 11, 23),
        "sex": "female",
    }
    with pytest.raises(ValidationError, match="Bay Mutual member IDs look different"):
        services.patient_register(
            context=_context(personas.front_desk),
            clinic=personas.clinic,
            data=data,
            extra_address={"kind": "work", "address_line1": "1 Market St", "country": "US"},
            coverage={"payer": payer, "member_id": "nope", "relationship": "self"},
        )
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(object_type__in=["patient", "coverage"]).exists()


def test_a_coverage_the_database_refuses_undoes_the_whole_registration(
    personas: Personas, payer: Payer
) -> None:
    data = {
        "given_name": "Rosalind",
        "family_name": "Okonkwo",
        "birth_date": dt.date(1979, 11, 23),
        "sex": "female",
    }
    coverage = {
        "payer": payer,
        "member_id": "BM123456",
        "relationship": "self",
        "effective_date": dt.date(2026, 2, 1),
        "end_date": dt.date(2026, 1, 1),
    }
    with pytest.raises(IntegrityError):
        services.patient_register(
            context=_context(personas.front_desk),
            clinic=personas.clinic,
            data=data,
            coverage=coverage,
        )
    assert not Patient.objects.exists()
    assert not Coverage.objects.exists()


def test_the_service_refuses_another_clinics_payer(personas: Personas) -> None:
    other = Clinic.objects.exclude(pk=personas.clinic.pk).first()
    assert other is not None
    foreign = Payer.objects.create(clinic=other, name="Elsewhere Health")
    with pytest.raises(ValueError, match="not one of the clinic's"):
        services.patient_register(
            context=_context(personas.front_desk),
            clinic=personas.clinic,
            data={
                "given_name": "Rosalind",
                "family_name": "Okonkwo",
                "birth_date": dt.date(1979, 11, 23),
                "sex": "female",
            },
            coverage={"payer": foreign, "member_id": "A1", "relationship": "self"},
        )
    assert not Patient.objects.exists()


def test_the_service_saves_the_patient_and_the_primary_coverage_together(
    personas: Personas, payer: Payer
) -> None:
    patient = services.patient_register(
        context=_context(personas.front_desk),
        clinic=personas.clinic,
        data={
            "given_name": "Rosalind",
            "family_name": "Okonkwo",
            "birth_date": dt.date(1979, 11, 23),
            "sex": "female",
        },
        coverage={
            "payer": payer,
            "member_id": "bm 123 456",
            "relationship": "self",
            "copay": Decimal("12.50"),
            "plan_name": "",
        },
    )
    coverage = Coverage.objects.get()
    assert coverage.patient == patient and coverage.rank == 1
    assert (coverage.member_id, coverage.copay) == ("BM123456", Decimal("12.50"))
    events = AuditEvent.objects.filter(action=AuditAction.CREATE).order_by("pk")
    assert [(e.object_type, e.patient_ids) for e in events] == [
        ("patient", [patient.pk]),
        ("coverage", [patient.pk]),
    ]
