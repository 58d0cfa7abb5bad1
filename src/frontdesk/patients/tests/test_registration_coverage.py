"""Insurance entered with the registration: one pass from the form through the read-back to the
chart, the patient and the primary coverage saved together or not at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.clinic.models import Clinic
from frontdesk.patients import services
from frontdesk.patients.models import Coverage, Patient, Payer


@pytest.fixture
def payer(personas: Personas) -> Payer:
    return Payer.objects.create(
        clinic=personas.clinic,
        name="Bay Mutual",
        member_id_pattern=r"BM\d{6}",
        member_id_example="BM123456",
    )


def _context(user: User) -> AuditContext:
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test")


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
