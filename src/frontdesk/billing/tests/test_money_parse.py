"""Amounts typed at the desk are read only when they cannot be misread."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.billing.models import LedgerEntry
from frontdesk.lib.money import money_parse
from frontdesk.patients.models import Patient


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12,50", "Use a point for cents, like 12.50."),
        ("1,2", "Use a point for cents, like 12.50."),
        ("1e5", "Type the amount in numbers, like 25.00."),
        ("1E2", "Type the amount in numbers, like 25.00."),
        ("1_000", "Type the amount in numbers, like 25.00."),
        ("١٢٣", "Type the amount in numbers, like 25.00."),
        ("１２", "Type the amount in numbers, like 25.00."),
        ("12,34,567", "Type the amount in numbers, like 25.00."),
        ("1,2345", "Type the amount in numbers, like 25.00."),
        ("+5", "Type the amount in numbers, like 25.00."),
        (".5", "Type the amount in numbers, like 25.00."),
        ("5.", "Type the amount in numbers, like 25.00."),
        ("Infinity", "Type the amount in numbers, like 25.00."),
        ("-0", "The amount cannot be negative."),
        ("-0.00", "The amount cannot be negative."),
        ("-$5", "The amount cannot be negative."),
    ],
)
def test_an_amount_that_could_be_misread_is_refused_in_plain_words(
    typed: str, message: str
) -> None:
    with override_settings(CLINIC_CURRENCY="USD"), pytest.raises(ValueError) as caught:
        money_parse(typed, allow_zero=True)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1,250.50", Decimal("1250.50")),
        ("$1,250", Decimal("1250.00")),
        ("12,500,000.5", Decimal("12500000.50")),
        ("1250.50", Decimal("1250.50")),
        ("$ 7", Decimal("7.00")),
        ("0.50", Decimal("0.50")),
        ("12.3", Decimal("12.30")),
    ],
)
def test_amounts_written_with_thousands_commas_or_plain_digits_are_read_exactly(
    typed: str, amount: Decimal
) -> None:
    with override_settings(CLINIC_CURRENCY="USD"):
        assert money_parse(typed) == amount


def test_zero_typed_with_a_minus_sign_is_never_kept_as_a_negative_zero() -> None:
    with override_settings(CLINIC_CURRENCY="USD"), pytest.raises(ValueError):
        money_parse("-0", allow_zero=True)
    assert str(money_parse("0", allow_zero=True)) == "0.00"


def test_a_very_long_number_is_refused_as_too_large_rather_than_failing() -> None:
    with override_settings(CLINIC_CURRENCY="USD"), pytest.raises(ValueError, match="too large"):
        money_parse("9" * 60)


def test_a_patient_in_credit_sees_the_credit_on_the_chart_without_a_minus_sign(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    for kind, amount, method in (("charge", "10.00", ""), ("payment", "25.50", "cash")):
        LedgerEntry.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            kind=kind,
            amount=Decimal(amount),
            description="Forms fee",
            method=method,
            created_at=timezone.now(),
        )
    with override_settings(CLINIC_CURRENCY="USD"):
        html = client_for(personas.billing).get(f"/patients/{patient.pk}/").content.decode()
    assert "In credit: $15.50" in html
    assert "-$15.50" not in html
