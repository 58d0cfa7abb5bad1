"""Writes to patient accounts. Entries are only ever added; each write is audited with it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.billing.models import (
    MONEY_KINDS,
    CashDrawer,
    DrawerStatus,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from frontdesk.billing.selectors import copay_charged, primary_copay
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import money_format
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus


class BillingRefusedError(Exception):
    """A ledger write that must not happen; the message is for the member of staff."""


class DrawerRequiredError(BillingRefusedError):
    """No money is taken or given back without the officer's open drawer of today. The page
    shows the message with a link to open one; what was typed is kept."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Open your cash drawer first (Cash drawer, in the menu: count the float and "
            "open it), then record the payment again; what you typed is kept."
        )


def drawer_for_money(user: User, *, now: dt.datetime) -> CashDrawer:
    """The officer's open drawer of today, locked until the transaction ends, so a close-out
    cannot count it while money goes in. Raises `DrawerRequiredError`."""
    drawer = (
        CashDrawer.objects.select_for_update()
        .select_related("location")
        .filter(officer=user, status=DrawerStatus.OPEN)
        .first()
    )
    if drawer is None:
        raise DrawerRequiredError
    today = now.astimezone(clinic_zone(drawer.clinic_id)).date()
    if drawer.business_day != today:
        raise DrawerRequiredError(
            f"Your drawer of {drawer.business_day:%a %b %-d} is still open: close it (Cash "
            "drawer, in the menu) and open today's, then record the payment again; what you "
            "typed is kept."
        )
    return drawer


class PaymentAlreadyRecordedError(Exception):
    """The payment form was sent twice: its one-time key is on an entry already."""

    def __init__(self, payment: LedgerEntry) -> None:
        super().__init__("This payment was already recorded; nothing was taken twice.")
        self.payment = payment


COPAY_DESCRIPTION = "Co-pay for the visit"
# Visits whose co-pay is never charged.
NO_COPAY_STATUSES = (
    AppointmentStatus.CANCELLED,
    AppointmentStatus.NOSHOW,
    AppointmentStatus.ENTERED_IN_ERROR,
)


def entry_create(
    *,
    user: User,
    patient: Patient,
    kind: str,
    amount: Decimal,
    description: str,
    method: str = "",
    appointment: Appointment | None = None,
    is_copay: bool = False,
    request_key: uuid.UUID | None = None,
    drawer: CashDrawer | None = None,
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    if patient.clinic_id != user.clinic_id:
        raise BillingRefusedError("This patient belongs to another clinic.")
    if not isinstance(amount, Decimal) or amount <= 0:
        raise BillingRefusedError("The amount must be more than zero.")
    if kind in MONEY_KINDS and method not in PaymentMethod.values:
        raise BillingRefusedError("Choose how the patient paid.")
    return LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        amount=amount,
        description=description.strip(),
        method=method if kind in MONEY_KINDS else "",
        appointment=appointment,
        is_copay=is_copay,
        request_key=request_key,
        drawer=drawer,
        reverses=reverses,
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
    entry = entry_create(user=user, patient=patient, kind=kind, amount=amount, description=reason)
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.LEDGER_ENTRY,
        object_id=entry.pk,
        detail={"kind": kind, "amount": str(amount)},
    )
    return entry


@transaction.atomic
def account_payment_record(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    amount: Decimal,
    method: str,
    request_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Take a payment on the patient's account from the chart, outside a visit, into the
    officer's open drawer (`DrawerRequiredError` without one).
    `request_key` is the form's one-time key: sent twice, the payment is recorded once."""
    _raise_if_already_recorded(request_key)
    drawer = drawer_for_money(user, now=now or timezone.now())
    # Again under the drawer's lock: the same form sent from another window waited for it.
    _raise_if_already_recorded(request_key)
    return _payment_create(
        drawer=drawer,
        context=context,
        user=user,
        patient=patient,
        amount=amount,
        method=method,
        description="Payment on account",
        request_key=request_key,
    )


def _copay_refusal(appointment: Appointment, *, now: dt.datetime) -> str:
    """Why no co-pay may be charged for this visit now, or ""."""
    zone = clinic_zone(appointment.clinic_id)
    if appointment.status in NO_COPAY_STATUSES:
        return (
            f"This appointment is {appointment.get_status_display().lower()}; "
            "no co-pay is charged for it."
        )
    if appointment.start.astimezone(zone).date() != now.astimezone(zone).date():
        return (
            f"This appointment is on {appointment.start.astimezone(zone):%a %b %-d}, not today; "
            "its co-pay is charged on the day."
        )
    return ""


def _copay_audit(context: AuditContext, entry: LedgerEntry) -> None:
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[entry.patient_id],
        object_type=AuditObject.LEDGER_ENTRY,
        object_id=entry.pk,
        detail={
            "kind": EntryKind.CHARGE,
            "amount": str(entry.amount),
            "copay": True,
            "appointment": entry.appointment_id,
        },
    )


def visit_copay_charge(
    *, context: AuditContext, user: User, appointment: Appointment, now: dt.datetime
) -> LedgerEntry | None:
    """Charge the visit's co-pay (primary coverage in force today) when the patient is checked
    in, whether or not they pay now. Called inside the check-in's transaction; the unique
    co-pay constraint makes a second charge for the same visit a no-op."""
    if _copay_refusal(appointment, now=now):
        return None
    amount = primary_copay(
        appointment.patient_id, day=now.astimezone(clinic_zone(appointment.clinic_id)).date()
    )
    if amount is None or amount <= 0:
        return None
    try:
        with transaction.atomic():
            entry = entry_create(
                user=user,
                patient=appointment.patient,
                kind=EntryKind.CHARGE,
                amount=amount,
                description=COPAY_DESCRIPTION,
                appointment=appointment,
                is_copay=True,
            )
    except IntegrityError:
        return None  # charged already, with a payment taken before check-in
    _copay_audit(context, entry)
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
    request_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> CheckInPayment:
    """Take a payment at check-in. When `copay` (the co-pay the officer was shown) is given,
    the visit's co-pay is charged first, once per appointment: if another officer has charged
    it meanwhile, or the co-pay on file is no longer the one shown, nothing is written and the
    officer is told, so the patient is not asked to pay twice or the wrong amount.
    The money goes into the officer's open drawer (`DrawerRequiredError` without one).
    `request_key` is the form's one-time key: sent twice, the payment is recorded once."""
    now = now or timezone.now()
    patient = appointment.patient
    _raise_if_already_recorded(request_key)
    drawer = drawer_for_money(user, now=now)
    # Again under the drawer's lock: the same form sent from another window waited for it.
    _raise_if_already_recorded(request_key)
    copay_entry = None
    if copay is not None and copay > 0:
        refusal = _copay_refusal(appointment, now=now)
        if refusal:
            raise BillingRefusedError(refusal)
        if copay_charged(appointment.pk):
            raise BillingRefusedError(
                "The co-pay for this visit was just recorded by someone else; "
                "check the amount due again before taking money."
            )
        current = primary_copay(
            patient.pk, day=now.astimezone(clinic_zone(patient.clinic_id)).date()
        )
        if current != copay:
            now_asked = (
                f"it is now {money_format(current)}" if current else "none is asked any more"
            )
            raise BillingRefusedError(
                f"The co-pay on file changed from {money_format(copay)}: {now_asked}. "
                "Check the amount due again before taking money."
            )
        try:
            with transaction.atomic():
                copay_entry = entry_create(
                    user=user,
                    patient=patient,
                    kind=EntryKind.CHARGE,
                    amount=copay,
                    description=COPAY_DESCRIPTION,
                    appointment=appointment,
                    is_copay=True,
                )
        except IntegrityError:
            _raise_if_already_recorded(request_key)
            raise BillingRefusedError(
                "The co-pay for this visit was just recorded by someone else; "
                "check the amount due again before taking money."
            ) from None
        _copay_audit(context, copay_entry)
    payment = _payment_create(
        drawer=drawer,
        context=context,
        user=user,
        patient=patient,
        amount=amount,
        method=method,
        description="Payment at check-in",
        request_key=request_key,
        appointment=appointment,
        detail={
            "appointment": appointment.pk,
            "copay_entry": copay_entry.pk if copay_entry else None,
        },
    )
    return CheckInPayment(payment=payment, copay=copay_entry)


def _payment_create(
    *,
    drawer: CashDrawer,
    context: AuditContext,
    user: User,
    patient: Patient,
    amount: Decimal,
    method: str,
    description: str,
    request_key: uuid.UUID | None,
    appointment: Appointment | None = None,
    detail: dict[str, Any] | None = None,
) -> LedgerEntry:
    """Write one payment, audited. A form sent twice loses the race on the unique
    `request_key` and is answered with the payment already recorded."""
    try:
        with transaction.atomic():
            payment = entry_create(
                user=user,
                patient=patient,
                kind=EntryKind.PAYMENT,
                amount=amount,
                description=description,
                method=method,
                appointment=appointment,
                request_key=request_key,
                drawer=drawer,
            )
    except IntegrityError:
        _raise_if_already_recorded(request_key)
        raise
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.LEDGER_ENTRY,
        object_id=payment.pk,
        detail={
            "kind": EntryKind.PAYMENT,
            "amount": str(amount),
            "method": method,
            "drawer": drawer.pk,
            **(detail or {}),
        },
    )
    return payment


def _raise_if_already_recorded(request_key: uuid.UUID | None) -> None:
    if request_key is None:
        return
    earlier = LedgerEntry.objects.filter(request_key=request_key).first()
    if earlier is not None:
        raise PaymentAlreadyRecordedError(earlier)
