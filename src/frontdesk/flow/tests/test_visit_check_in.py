"""visit_check_in: the desk's check-in as one step, paid and checked in, or neither."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.flow.check_in import DeskFacts, PaymentTyped, visit_check_in
from frontdesk.flow.late import late_impact
from frontdesk.flow.models import LateArrival, LateChoice, QueueEntry
from frontdesk.flow.services import FlowRefusedError
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import AppointmentStatus

# Payments go into the desk officer's open drawer.
pytestmark = pytest.mark.usefixtures("frozen", "desk_drawer")


def _cash(amount: str) -> PaymentTyped:
    return PaymentTyped(amount=Decimal(amount), method="cash", copay=None, request_key=uuid.uuid4())


def test_a_check_in_with_a_payment_records_both(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    done = visit_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        facts=DeskFacts(consent_signed=True),
        payment=_cash("20.00"),
        now=timezone.now(),
    )
    assert done.entry is not None and not done.rescheduled
    assert done.payment is not None and done.payment.payment.amount == Decimal("20.00")
    assert QueueEntry.objects.filter(appointment=appointment).count() == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN


def test_a_refused_check_in_takes_no_payment(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    # The payment is written before the check-in is refused: only the one transaction
    # around both undoes it.
    appointment = make_appointment(start=timezone.now() + dt.timedelta(days=2))
    with pytest.raises(FlowRefusedError, match="not today"):
        visit_check_in(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=appointment,
            facts=DeskFacts(),
            payment=_cash("20.00"),
            now=timezone.now(),
        )
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()
    assert not QueueEntry.objects.exists()


def test_a_late_patient_to_be_rescheduled_is_neither_checked_in_nor_charged(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment(start=timezone.now() - dt.timedelta(minutes=20))
    impact = late_impact(appointment, now=timezone.now())
    done = visit_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        facts=DeskFacts(),
        late=impact,
        late_choice=LateChoice.RESCHEDULE,
        payment=_cash("20.00"),
        now=timezone.now(),
    )
    assert done.rescheduled and done.payment is None
    assert not QueueEntry.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert LateArrival.objects.get(appointment=appointment).choice == LateChoice.RESCHEDULE
