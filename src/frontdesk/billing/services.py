"""Writes to patient accounts. Entries are only ever added; each write is audited with it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.billing.models import EntryKind, LedgerEntry, PaymentMethod
from frontdesk.billing.selectors import copay_charged
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment


class BillingRefusedError(Exception):
    """A ledger write that must not happen; the message is for the member of staff."""


COPAY_DESCRIPTION = "Co-pay for the visit"


def _entry_create(
    *,
    user: User,
    patient: Patient,
    kind: str,
    amount: Decimal,
    description: str,
    method: str = "",
    appointment: Appointment | None = None,
    is_copay: bool = False,
) -> LedgerEntry:
    if patient.clinic_id != user.clinic_id:
        raise BillingRefusedError("This patient belongs to another clinic.")
    if not isinstance(amount, Decimal) or amount <= 0:
        raise BillingRefusedError("The amount must be more than zero.")
    if kind == EntryKind.PAYMENT and method not in PaymentMethod.values:
        raise BillingRefusedError("Choose how the patient paid.")
    return LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        amount=amount,
        description=description.strip(),
        method=method if kind == EntryKind.PAYMENT else "",
        appointment=appointment,
        is_copay=is_copay,
        created_by=user,
        created_at=timezone.now(),
    )


@transaction.atomic
def ledger_adjust(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    kind: str,
    amount: Decimal,
    reason: str,
) -> LedgerEntry:
    """Add a charge or an adjustment credit to the patient's account, with its reason."""
    if kind not in (EntryKind.CHARGE, EntryKind.CREDIT):
        raise BillingRefusedError("Choose a charge or a credit.")
    if not reason.strip():
        raise BillingRefusedError("Say what the entry is for.")
    entry = _entry_create(user=user, patient=patient, kind=kind, amount=amount, description=reason)
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type="ledger_entry",
        object_id=entry.pk,
        detail={"kind": kind, "amount": str(amount)},
    )
    return entry


@dataclass(frozen=True)
class CheckInPayment:
    payment: LedgerEntry
    copay: LedgerEntry | None


@transaction.atomic
def check_in_payment_record(
    *,
    context: AuditContext,
    user: User,
    appointment: Appointment,
    amount: Decimal,
    method: str,
    copay: Decimal | None,
) -> CheckInPayment:
    """Take a payment at check-in. When `copay` is given, the visit's co-pay is charged first,
    once per appointment: if another officer has charged it meanwhile, nothing is written and
    the officer is told, so the patient is not asked to pay twice."""
    patient = appointment.patient
    copay_entry = None
    if copay is not None and copay > 0:
        if copay_charged(appointment.pk):
            raise BillingRefusedError(
                "The co-pay for this visit was just recorded by someone else; "
                "check the amount due again before taking money."
            )
        try:
            with transaction.atomic():
                copay_entry = _entry_create(
                    user=user,
                    patient=patient,
                    kind=EntryKind.CHARGE,
                    amount=copay,
                    description=COPAY_DESCRIPTION,
                    appointment=appointment,
                    is_copay=True,
                )
        except IntegrityError:
            raise BillingRefusedError(
                "The co-pay for this visit was just recorded by someone else; "
                "check the amount due again before taking money."
            ) from None
    payment = _entry_create(
        user=user,
        patient=patient,
        kind=EntryKind.PAYMENT,
        amount=amount,
        description="Payment at check-in",
        method=method,
        appointment=appointment,
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type="ledger_entry",
        object_id=payment.pk,
        detail={
            "kind": EntryKind.PAYMENT,
            "amount": str(amount),
            "method": method,
            "appointment": appointment.pk,
            "copay_entry": copay_entry.pk if copay_entry else None,
        },
    )
    return CheckInPayment(payment=payment, copay=copay_entry)
