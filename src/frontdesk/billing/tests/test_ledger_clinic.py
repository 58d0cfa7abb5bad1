"""The database keeps ledger entries within their clinic: an entry is written for its patient's
clinic, and a move to another clinic's patient is refused, even when the SQL is typed by hand;
moves within the clinic (merges) go through."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.triggers import PATIENT_CLINIC_MESSAGE, SAME_CLINIC_MESSAGE, TABLE
from frontdesk.clinic.models import Clinic
from frontdesk.patients.models import Patient


def _charge(patient: Patient, clinic: Clinic | None = None) -> LedgerEntry:
    return LedgerEntry.objects.create(
        clinic_id=(clinic or patient.clinic).pk,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal("40.00"),
        description="Forms fee",
        created_at=timezone.now(),
    )


def _move_by_hand(entry: LedgerEntry, patient: Patient) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET patient_id = %s WHERE id = %s", [patient.pk, entry.pk])


def test_moving_an_entry_by_hand_to_a_patient_of_another_clinic_is_refused(
    personas: Personas, patient: Patient
) -> None:
    entry = _charge(patient)
    stranger = make_patient(personas.other_clinic, given_name="Jon")

    with pytest.raises(IntegrityError, match=SAME_CLINIC_MESSAGE), transaction.atomic():
        _move_by_hand(entry, stranger)

    entry.refresh_from_db()
    assert entry.patient_id == patient.pk
    assert not LedgerEntry.objects.filter(patient=stranger).exists()


def test_moving_entries_through_the_orm_to_another_clinic_is_refused_for_the_whole_statement(
    personas: Personas, patient: Patient
) -> None:
    first, second = _charge(patient), _charge(patient)
    stranger = make_patient(personas.other_clinic, given_name="Jon")

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk__in=[first.pk, second.pk]).update(patient=stranger)

    assert set(LedgerEntry.objects.filter(patient=patient)) == {first, second}


def test_moving_an_entry_by_hand_to_another_patient_of_the_same_clinic_goes_through(
    personas: Personas, patient: Patient
) -> None:
    entry = _charge(patient)
    survivor = make_patient(personas.clinic, given_name="Jon")

    _move_by_hand(entry, survivor)

    entry.refresh_from_db()
    assert entry.patient_id == survivor.pk


def test_an_entry_written_by_hand_for_another_clinic_than_its_patients_is_refused(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(IntegrityError, match=PATIENT_CLINIC_MESSAGE), transaction.atomic():
        _charge(patient, clinic=personas.other_clinic)
    with (
        pytest.raises(IntegrityError, match=PATIENT_CLINIC_MESSAGE),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"INSERT INTO {TABLE} (clinic_id, patient_id, kind, amount, description, "
            "method, request_key, created_at) VALUES (%s, %s, 'charge', 40, 'Fee', '', "
            "NULL, %s)",
            [personas.other_clinic.pk, patient.pk, timezone.now()],
        )
    assert not LedgerEntry.objects.filter(patient=patient).exists()
    assert _charge(patient).clinic_id == patient.clinic_id  # its own clinic is fine
