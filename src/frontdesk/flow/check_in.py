"""The desk's check-in of a booked visit as one step: the payment typed with it, the late
arrival's choice, the facts confirmed at the desk and the ticket, in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from frontdesk.accounts.models import User
from frontdesk.audit.services import AuditContext
from frontdesk.billing.services import CheckInPayment, check_in_payment_record
from frontdesk.flow.display import queue_delay
from frontdesk.flow.late import LateImpact, late_arrival_record
from frontdesk.flow.models import LateChoice, Priority, QueueEntry
from frontdesk.flow.services import appointment_check_in, queue_entry_tell_wait
from frontdesk.scheduling.models import Appointment

TOLD_WAIT_CAP = 600  # minutes: the longest wait told to a patient


@dataclass(frozen=True)
class PaymentTyped:
    """A payment typed on the check-in page before "Check in" was pressed. `copay` is the
    co-pay the page showed (charged only if it is still the one on file); `request_key` is the
    form's one-time key."""

    amount: Decimal
    method: str
    copay: Decimal | None
    request_key: uuid.UUID | None


@dataclass(frozen=True)
class DeskFacts:
    """What the desk confirmed with the patient while checking them in."""

    confirm_address: bool = False
    consent_signed: bool = False
    priority: Priority = Priority.NORMAL
    priority_reason: str = ""


@dataclass(frozen=True)
class VisitCheckIn:
    """The outcome: `entry` is the ticket in the queue, or None when the late patient is to be
    given a new time instead (nothing is then paid)."""

    entry: QueueEntry | None
    payment: CheckInPayment | None

    @property
    def rescheduled(self) -> bool:
        return self.entry is None


@transaction.atomic
def visit_check_in(
    *,
    context: AuditContext,
    user: User,
    appointment: Appointment,
    facts: DeskFacts,
    late: LateImpact | None = None,
    late_choice: LateChoice | None = None,
    payment: PaymentTyped | None = None,
    now: dt.datetime,
) -> VisitCheckIn:
    """Check in the patient of `appointment` at the desk: paid and checked in, or neither.

    A late patient (`late`, the impact shown at the desk) whom the desk chose to reschedule is
    recorded as such and not checked in; the payment typed is then not taken. Otherwise the
    payment (if any) is recorded, the patient checked in and, when the provider is running
    later than the wait forecast, the wait told to the patient is the screens' delay.
    Raises `FlowRefusedError`, `BillingRefusedError` or `PaymentAlreadyRecordedError`, after
    which nothing is written."""
    if late is not None and late_choice == LateChoice.RESCHEDULE:
        late_arrival_record(
            context=context,
            user=user,
            appointment=appointment,
            choice=LateChoice.RESCHEDULE,
            impact=late,
            now=now,
        )
        return VisitCheckIn(entry=None, payment=None)
    taken = (
        check_in_payment_record(
            context=context,
            user=user,
            appointment=appointment,
            amount=payment.amount,
            method=payment.method,
            copay=payment.copay,
            request_key=payment.request_key,
            now=now,
        )
        if payment is not None
        else None
    )
    entry = appointment_check_in(
        context=context,
        user=user,
        appointment=appointment,
        confirm_address=facts.confirm_address,
        consent_signed=facts.consent_signed,
        priority=facts.priority,
        priority_reason=facts.priority_reason,
        late=late,
    )
    if entry.priority != Priority.EMERGENCY and entry.told_wait_minutes is not None:
        # What the desk says matches the screens: a provider running late is in the wait.
        delay = queue_delay(clinic_id=entry.clinic_id, queue_id=entry.queue_id, now=now)
        if delay > entry.told_wait_minutes:
            entry = queue_entry_tell_wait(
                context=context, user=user, entry=entry, minutes=min(delay, TOLD_WAIT_CAP)
            )
    return VisitCheckIn(entry=entry, payment=taken)
