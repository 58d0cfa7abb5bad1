"""The ledger's append-only triggers are installed and cover every column but patient_id, and
the trigger that keeps a moved entry within its clinic is installed beside them."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.utils import timezone

from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.triggers import COLUMNS, PATIENT_CLINIC_TRIGGER, SAME_CLINIC_TRIGGER, TABLE
from frontdesk.patients.models import Patient


def _model_columns_but_patient() -> set[str]:
    return {str(f.column) for f in LedgerEntry._meta.concrete_fields} - {"patient_id"}


def test_the_protected_columns_are_every_ledger_column_but_the_patient() -> None:
    # A column added to LedgerEntry must be added to COLUMNS (and its triggers recreated),
    # or it could be changed after the fact.
    assert sorted(COLUMNS) == sorted(_model_columns_but_patient())
    assert len(COLUMNS) == len(set(COLUMNS))


def test_a_committing_test_with_ledger_entries_is_emptied_and_the_triggers_come_back(
    transactional_audit: None, patient: Patient
) -> None:
    # The flush after this test deletes the entry; the root fixture lifts the ledger's
    # triggers for it and puts them back (checked by the next test).
    LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal("5.00"),
        description="Forms fee",
        created_at=timezone.now(),
    )
    assert LedgerEntry.objects.count() == 1


def test_after_migrating_the_ledger_triggers_guard_every_column_but_the_patient(db: None) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
                [TABLE],
            )
            rows = dict(cursor.fetchall())
            assert sorted(rows) == sorted(
                [f"{TABLE}_append_only", SAME_CLINIC_TRIGGER, PATIENT_CLINIC_TRIGGER]
            )
            guarded = rows[f"{TABLE}_append_only"]
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            rows = dict(cursor.fetchall())
            assert sorted(rows) == sorted(
                [
                    f"{TABLE}_no_delete",
                    f"{TABLE}_no_update",
                    SAME_CLINIC_TRIGGER,
                    PATIENT_CLINIC_TRIGGER,
                ]
            )
            guarded = rows[f"{TABLE}_no_update"]
    for column in _model_columns_but_patient():
        assert column in guarded, f"{column} can be changed after the fact"
    assert "NEW.patient_id" not in guarded and "patient_id," not in guarded


def test_after_migrating_a_change_of_patient_is_checked_against_the_clinics(db: None) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_triggerdef(t.oid), p.prosrc FROM pg_trigger t "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = %s::regclass "
                "AND t.tgname = %s",
                [TABLE, SAME_CLINIC_TRIGGER],
            )
            definition, body = cursor.fetchone()
            assert "BEFORE UPDATE OF patient_id" in definition
        else:
            cursor.execute(
                "SELECT sql, sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [SAME_CLINIC_TRIGGER],
            )
            definition, body = cursor.fetchone()
            assert "BEFORE UPDATE OF patient_id" in definition
    for compared in ("NEW.patient_id", "OLD.patient_id", "NEW.clinic_id", "OLD.clinic_id"):
        assert compared in body


def test_after_migrating_a_new_entry_is_checked_against_its_patients_clinic(db: None) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_triggerdef(t.oid), p.prosrc FROM pg_trigger t "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = %s::regclass "
                "AND t.tgname = %s",
                [TABLE, PATIENT_CLINIC_TRIGGER],
            )
        else:
            cursor.execute(
                "SELECT sql, sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [PATIENT_CLINIC_TRIGGER],
            )
        definition, body = cursor.fetchone()
    assert "BEFORE INSERT" in definition
    for compared in ("NEW.patient_id", "NEW.clinic_id"):
        assert compared in body
