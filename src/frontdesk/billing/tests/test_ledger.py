from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import services
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.lib.money import money_format, money_parse
from frontdesk.patients.merging import patient_merge, patient_unmerge
from frontdesk.patients.models import Patient


def _entry(patient: Patient, kind: str, amount: str, method: str = "") -> LedgerEntry:
    return LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        amount=Decimal(amount),
        description="test entry",
        method=method,
        created_at=timezone.now(),
    )


def test_the_balance_is_charges_minus_payments_minus_credits_to_the_cent(
    personas: Personas, patient: Patient
) -> None:
    assert patient_balance(patient.pk) == Decimal("0.00")
    for _ in range(10):
        _entry(patient, EntryKind.CHARGE, "0.10")
    _entry(patient, EntryKind.CHARGE, "120.35")
    _entry(patient, EntryKind.PAYMENT, "20.00", "card")
    _entry(patient, EntryKind.CREDIT, "0.30")
    balance = patient_balance(patient.pk)
    # 10 x 0.10 is exactly 1.00 in Decimal (it would not be in float).
    assert balance == Decimal("101.05") and isinstance(balance, Decimal)
    assert str(balance) == "101.05"
    # Another patient's entries do not count.
    _entry(make_patient(personas.clinic, given_name="Jane"), EntryKind.CHARGE, "5.00")
    assert patient_balance(patient.pk) == Decimal("101.05")


def test_a_patient_who_paid_more_than_owed_is_in_credit(patient: Patient) -> None:
    _entry(patient, EntryKind.CHARGE, "10.00")
    _entry(patient, EntryKind.PAYMENT, "25.50", "cash")
    assert patient_balance(patient.pk) == Decimal("-15.50")


def test_the_balance_takes_one_query(patient: Patient, django_assert_num_queries: object) -> None:
    _entry(patient, EntryKind.CHARGE, "10.00")
    _entry(patient, EntryKind.PAYMENT, "4.00", "cash")
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert patient_balance(patient.pk) == Decimal("6.00")


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_the_database_refuses_an_amount_that_is_not_positive(patient: Patient, amount: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(patient, EntryKind.CHARGE, amount)
    assert not LedgerEntry.objects.exists()


def test_the_database_refuses_a_payment_without_a_method_and_a_charge_with_one(
    patient: Patient,
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(patient, EntryKind.PAYMENT, "5.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(patient, EntryKind.CHARGE, "5.00", "cash")
    assert not LedgerEntry.objects.exists()


def test_an_entry_can_never_be_changed_or_removed(patient: Patient) -> None:
    entry = _entry(patient, EntryKind.CHARGE, "40.00")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("4.00"))
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.amount == Decimal("40.00")


def test_merging_records_moves_the_entries_to_the_surviving_patient_and_back(
    personas: Personas, patient: Patient
) -> None:
    _entry(patient, EntryKind.CHARGE, "40.00")
    survivor = make_patient(personas.clinic, given_name="Jon")
    _entry(survivor, EntryKind.CHARGE, "2.50")
    merge = patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=survivor,
        merged=patient,
        take_from_merged=set(),
    )
    assert patient_balance(survivor.pk) == Decimal("42.50")
    assert patient_balance(patient.pk) == Decimal("0.00")
    patient_unmerge(context=SYSTEM_CONTEXT, user=personas.supervisor, merge=merge)
    assert patient_balance(patient.pk) == Decimal("40.00")


def test_a_correction_is_a_new_audited_credit(personas: Personas, patient: Patient) -> None:
    charge = services.ledger_adjust(
        context=SYSTEM_CONTEXT,
        user=personas.billing,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal("80.00"),
        reason="Missed appointment fee",
    )
    services.ledger_adjust(
        context=SYSTEM_CONTEXT,
        user=personas.billing,
        patient=patient,
        kind=EntryKind.CREDIT,
        amount=Decimal("80.00"),
        reason="Fee waived: the patient called ahead",
    )
    assert patient_balance(patient.pk) == Decimal("0.00")
    assert LedgerEntry.objects.filter(pk=charge.pk, amount=Decimal("80.00")).exists()
    events = AuditEvent.objects.filter(object_type="ledger_entry").order_by("seq")
    assert [e.detail["kind"] for e in events] == ["charge", "credit"]
    assert all(list(e.patient_ids) == [patient.pk] for e in events)


def test_a_member_of_another_clinic_cannot_write_to_the_account(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(services.BillingRefusedError, match="another clinic"):
        services.ledger_adjust(
            context=SYSTEM_CONTEXT,
            user=personas.outsider,
            patient=patient,
            kind=EntryKind.CHARGE,
            amount=Decimal("1.00"),
            reason="x",
        )
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("twelve", "in numbers"),
        ("-5", "cannot be negative"),
        ("0", "more than zero"),
        ("12.345", "at most two decimals"),
        ("123456789012", "too large"),
        ("1e400", "in numbers"),
        ("NaN", "in numbers"),
        ("", "Type the amount"),
    ],
)
def test_amounts_typed_wrong_get_a_plain_message(typed: str, message: str) -> None:
    with override_settings(CLINIC_CURRENCY="USD"), pytest.raises(ValueError, match=message):
        money_parse(typed)


def test_amounts_are_read_as_typed_at_the_desk() -> None:
    assert money_parse("$1,250.5") == Decimal("1250.50")
    assert money_parse(" 25 ") == Decimal("25.00")
    assert money_parse("0", allow_zero=True) == Decimal("0.00")


def test_amounts_show_two_decimals_and_the_clinic_currency() -> None:
    with override_settings(CLINIC_CURRENCY="USD"):
        assert money_format(Decimal("1234.5")) == "$1,234.50"
    with override_settings(CLINIC_CURRENCY="EUR"):
        assert money_format(Decimal("3")) == "€3.00"
    with override_settings(CLINIC_CURRENCY="CHF"):
        assert money_format(Decimal("-3.1")) == "-CHF 3.10"
