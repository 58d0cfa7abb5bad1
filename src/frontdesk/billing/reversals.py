"""Voids and refunds: reversing entries with a reason, never edits of the payment.

The rules, in words:
- A **void** undoes a payment taken by mistake. Only a payment still in an open drawer of
  today can be voided (the money is still in that drawer); the void goes into the same drawer
  by the same method, for the whole amount, once. A payment already partly refunded is not
  voided: refund the rest instead.
- A **refund** gives money back after the fact. It comes out of the refunder's own open drawer
  of today: cash from the drawer (never more than the drawer holds), or back to the card for a
  payment made by card. Refunds of one payment never add up to more than it; a voided payment
  is not refunded.
- Both say why, both raise what the patient owes by their amount, and both are allowed only to
  billing and supervisors (`Action.BILLING_REVERSE`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.billing.drawer_selectors import drawer_totals
from frontdesk.billing.models import CashDrawer, DrawerStatus, EntryKind, LedgerEntry, PaymentMethod
from frontdesk.billing.services import BillingRefusedError, drawer_for_money, entry_create
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import CENT, money_format

# How a refund may be given back.
REFUND_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD)


def _payment_locked(user: User, payment_id: int) -> LedgerEntry:
    payment = (
        LedgerEntry.objects.select_for_update()
        .select_related("patient")
        .filter(pk=payment_id, kind=EntryKind.PAYMENT, clinic_id=user.clinic_id or 0)
        .first()
    )
    if payment is None:
        raise BillingRefusedError("No such payment.")
    return payment


def refunded_so_far(payment_id: int) -> Decimal:
    total = LedgerEntry.objects.filter(reverses_id=payment_id, kind=EntryKind.REFUND).aggregate(
        total=Sum("amount")
    )["total"]
    return Decimal(total or 0).quantize(CENT)


def is_voided(payment_id: int) -> bool:
    return LedgerEntry.objects.filter(reverses_id=payment_id, kind=EntryKind.VOID).exists()


def void_refusal(payment: LedgerEntry, drawer: CashDrawer | None, *, now: dt.datetime) -> str:
    """Why this payment cannot be voided now, or ""."""
    if is_voided(payment.pk):
        return "This payment was voided already."
    if refunded_so_far(payment.pk) > 0:
        return "Part of this payment was refunded; refund the rest instead of voiding it."
    if drawer is None or drawer.status != DrawerStatus.OPEN:
        return "This payment's drawer is closed: give a refund instead of a void."
    if drawer.business_day != now.astimezone(clinic_zone(drawer.clinic_id)).date():
        return "Only today's payments can be voided: give a refund instead."
    return ""


@transaction.atomic
def payment_void(
    *, context: AuditContext, user: User, payment_id: int, reason: str, now: dt.datetime
) -> LedgerEntry:
    """Void a payment of today's open drawer (see the rules above)."""
    payment = _payment_locked(user, payment_id)
    drawer = (
        CashDrawer.objects.select_for_update().filter(pk=payment.drawer_id).first()
        if payment.drawer_id
        else None
    )
    if not reason.strip():
        raise BillingRefusedError("Say why the payment is voided.")
    refusal = void_refusal(payment, drawer, now=now)
    if refusal:
        raise BillingRefusedError(refusal)
    try:
        with transaction.atomic():
            void = entry_create(
                user=user,
                patient=payment.patient,
                kind=EntryKind.VOID,
                amount=payment.amount,
                description=f"Void: {reason.strip()}"[:200],
                method=payment.method,
                appointment=payment.appointment,
                drawer=drawer,
                reverses=payment,
            )
    except IntegrityError:
        raise BillingRefusedError("This payment was voided already.") from None
    _reversal_audit(context, void, payment)
    return void


@transaction.atomic
def payment_refund(
    *,
    context: AuditContext,
    user: User,
    payment_id: int,
    amount: Decimal,
    method: str,
    reason: str,
    now: dt.datetime,
) -> LedgerEntry:
    """Give back some or all of a payment, from the refunder's open drawer (see the rules)."""
    payment = _payment_locked(user, payment_id)
    if not reason.strip():
        raise BillingRefusedError("Say why the money is given back.")
    if method not in REFUND_METHODS:
        raise BillingRefusedError("Give the money back in cash or to the card.")
    if method == PaymentMethod.CARD and payment.method != PaymentMethod.CARD:
        raise BillingRefusedError(
            "Only a card payment can be refunded to a card; give this one back in cash."
        )
    if is_voided(payment.pk):
        raise BillingRefusedError("This payment was voided; there is nothing to refund.")
    left = payment.amount - refunded_so_far(payment.pk)
    if not isinstance(amount, Decimal) or amount <= 0:
        raise BillingRefusedError("The amount must be more than zero.")
    if amount > left:
        raise BillingRefusedError(
            f"At most {money_format(left)} of this payment is left to refund."
        )
    drawer = drawer_for_money(user, now=now)
    if method == PaymentMethod.CASH:
        holds = drawer_totals([drawer])[drawer.pk].expected_cash
        if amount > holds:
            raise BillingRefusedError(
                f"Your drawer holds {money_format(holds)} in cash; it cannot give back "
                f"{money_format(amount)}."
            )
    refund = entry_create(
        user=user,
        patient=payment.patient,
        kind=EntryKind.REFUND,
        amount=amount,
        description=f"Refund: {reason.strip()}"[:200],
        method=method,
        appointment=payment.appointment,
        drawer=drawer,
        reverses=payment,
    )
    _reversal_audit(context, refund, payment)
    return refund


def _reversal_audit(context: AuditContext, entry: LedgerEntry, payment: LedgerEntry) -> None:
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[entry.patient_id],
        object_type=AuditObject.LEDGER_ENTRY,
        object_id=entry.pk,
        detail={
            "kind": entry.kind,
            "amount": str(entry.amount),
            "method": entry.method,
            "reverses": payment.pk,
            "drawer": entry.drawer_id,
        },
    )
