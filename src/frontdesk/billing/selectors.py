"""Reads of patient accounts: the balance (one aggregate query) and the latest entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format

from frontdesk.audit.models import AuditAction, AuditEvent, AuditObject
from frontdesk.billing.models import DEBIT_KINDS, EntryKind, LedgerEntry
from frontdesk.clinic.models import Clinic, Location
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import money_format
from frontdesk.patients.models import Coverage, CoverageRank

ZERO = Decimal("0.00")


def patient_balance(patient_id: int, *, through: LedgerEntry | None = None) -> Decimal:
    """What the patient owes: charges, refunds and voids minus payments and credits
    (negative: in credit).
    With `through`, what they owed just after that entry (entries are ordered by time, then
    by id: a co-pay charged and paid in one moment is charged first)."""
    signed = Case(
        When(kind__in=DEBIT_KINDS, then=F("amount")),
        default=-F("amount"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )
    entries = LedgerEntry.objects.filter(patient_id=patient_id)
    if through is not None:
        entries = entries.filter(
            Q(created_at__lt=through.created_at)
            | Q(created_at=through.created_at, pk__lte=through.pk)
        )
    total = entries.aggregate(
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


def voided_among(entries: list[LedgerEntry]) -> set[int]:
    """The ids of the payments among `entries` that were voided (one query)."""
    payments = [e.pk for e in entries if e.kind == EntryKind.PAYMENT]
    if not payments:
        return set()
    return set(
        LedgerEntry.objects.filter(kind=EntryKind.VOID, reverses_id__in=payments).values_list(
            "reverses_id", flat=True
        )
    ) - {None}


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


@dataclass(frozen=True)
class Receipt:
    """What a printed receipt says besides the patient's name and MRN."""

    entry: LedgerEntry
    clinic_name: str
    location: Location | None
    service_date: dt.date
    paid_for: str
    balance_after: Decimal
    # Printed before: this print is a copy, marked so it is not taken for a second payment.
    reprint: bool = False
    # Voids and refunds of this payment, shown on the receipt.
    reversals: tuple[LedgerEntry, ...] = ()


def payment_receipt(*, clinic: Clinic, entry: LedgerEntry) -> Receipt:
    """The facts of a payment's receipt. `entry` is a payment of `clinic` whose patient the
    caller has opened; six queries at most.

    The place is the visit's location when the payment is for a visit, else the location of the
    drawer it went into, else the clinic's first location (its main address). Never the visit's
    type: it can tell a diagnosis."""
    visit = entry.appointment
    location: Location | None
    if visit is not None:
        location = visit.schedule.location
        # Shown in the clinic's zone, as every date on the page.
        service_date = timezone.localdate(visit.start, clinic_zone(clinic))
        on = f"the visit of {date_format(service_date, 'F j, Y')} with {visit.provider}"
        copay = (
            LedgerEntry.objects.filter(appointment_id=visit.pk, is_copay=True)
            .values_list("amount", flat=True)
            .first()
        )
        if copay is None:
            paid_for = f"Payment at {on}"
        elif entry.amount <= copay:
            paid_for = f"Co-pay for {on}"
        else:
            rest = money_format(entry.amount - copay)
            paid_for = f"Co-pay for {on} ({money_format(copay)}) and {rest} on account"
    else:
        # Where the money was taken (the drawer's location), else the main address.
        location = (
            Location.objects.filter(cash_drawers__pk=entry.drawer_id).first()
            if entry.drawer_id is not None
            else None
        ) or Location.objects.filter(clinic=clinic).order_by("pk").first()
        service_date = timezone.localdate(entry.created_at, clinic_zone(clinic))
        paid_for = "Payment on account"
    return Receipt(
        entry=entry,
        clinic_name=clinic.name,
        location=location,
        service_date=service_date,
        paid_for=paid_for,
        balance_after=patient_balance(entry.patient_id, through=entry),
        reprint=AuditEvent.objects.filter(
            action=AuditAction.PRINT, object_type=AuditObject.RECEIPT, object_id=str(entry.pk)
        ).exists(),
        reversals=tuple(LedgerEntry.objects.filter(reverses=entry).order_by("created_at", "pk")),
    )


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    owed: Decimal | None  # what the entry added to the balance (charges, refunds, voids)
    paid: Decimal | None  # what it took off (payments, credits)
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    """A patient's balance statement: every ledger line with the running balance, and how to
    pay. `as_of` is the clinic's date it was printed."""

    clinic_name: str
    location: Location | None
    as_of: dt.date
    lines: list[StatementLine]
    balance: Decimal


def balance_statement(*, clinic: Clinic, patient_id: int, now: dt.datetime) -> Statement:
    """The statement of a patient the caller has opened: two queries."""
    balance = ZERO
    lines = []
    for entry in LedgerEntry.objects.filter(patient_id=patient_id).order_by("created_at", "pk"):
        debit = entry.kind in DEBIT_KINDS
        balance += entry.amount if debit else -entry.amount
        lines.append(
            StatementLine(
                entry=entry,
                owed=entry.amount if debit else None,
                paid=None if debit else entry.amount,
                balance=balance,
            )
        )
    return Statement(
        clinic_name=clinic.name,
        location=Location.objects.filter(clinic=clinic).order_by("pk").first(),
        as_of=timezone.localdate(now, clinic_zone(clinic)),
        lines=lines,
        balance=balance,
    )
