"""Reads of patient accounts: the balance (one aggregate query) and the latest entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.patients.models import Coverage, CoverageRank

ZERO = Decimal("0.00")


def patient_balance(patient_id: int) -> Decimal:
    """What the patient owes: charges minus payments minus credits (negative: in credit)."""
    signed = Case(
        When(kind=EntryKind.CHARGE, then=F("amount")),
        default=-F("amount"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )
    total = LedgerEntry.objects.filter(patient_id=patient_id).aggregate(
        balance=Coalesce(
            Sum(signed), Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2)
        )
    )["balance"]
    # SQLite hands sums back with float noise; the ledger has cents only.
    return Decimal(total).quantize(Decimal("0.01"))


def patient_entries(patient_id: int, *, limit: int = 10) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(patient_id=patient_id)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def copay_charged(appointment_id: int) -> bool:
    return LedgerEntry.objects.filter(appointment_id=appointment_id, is_copay=True).exists()


def visit_payments(appointment_id: int) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(appointment_id=appointment_id, kind=EntryKind.PAYMENT).order_by(
            "created_at", "pk"
        )
    )


def primary_copay(patient_id: int, *, day: dt.date) -> Decimal | None:
    """The co-pay of the patient's primary coverage in force on `day`, if it asks for one."""
    copay = (
        Coverage.objects.filter(patient_id=patient_id, rank=CoverageRank.PRIMARY, copay__gt=0)
        .filter(Q(effective_date__isnull=True) | Q(effective_date__lte=day))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .values_list("copay", flat=True)
        .first()
    )
    return copay
