from __future__ import annotations

import re
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import services
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.billing.tests.conftest import coverage_with_copay
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment

# Payments go into the desk officer's open drawer.
pytestmark = pytest.mark.usefixtures("frozen", "desk_drawer")


@pytest.fixture
def desk(client: Client, personas: Personas) -> Client:
    return login_client(client, personas.front_desk)


def _owing(patient: Patient, amount: str) -> None:
    LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal(amount),
        description="Visit of last month",
        created_at=timezone.now(),
    )


def _pay(desk: Client, appointment: Appointment, **data: str) -> object:
    """Send the payment form as the page does, with a fresh one-time key unless one is given."""
    sent = {"record_payment": "1", "request_key": str(uuid.uuid4()), **data}
    return desk.post(f"/flow/check-in/{appointment.pk}/", sent)


def test_the_check_in_page_shows_the_balance_and_todays_copay_prefilled(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    _owing(appointment.patient, "40.50")
    html = desk.get(f"/flow/check-in/{appointment.pk}/").content.decode()
    assert "Balance due $40.50" in html
    assert "Co-pay for today: $25.00" in html
    assert re.search(r'name="amount"[^>]*value="65.50"', html)


def test_with_nothing_due_there_is_no_payment_block(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, None)
    html = desk.get(f"/flow/check-in/{appointment.pk}/").content.decode()
    assert "Take a payment" not in html and "record_payment" not in html
    assert "Balance due" not in html and "Co-pay" not in html


def test_an_ended_or_secondary_coverage_asks_no_copay(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "30.00", rank=2)
    html = desk.get(f"/flow/check-in/{appointment.pk}/").content.decode()
    assert "Co-pay for today" not in html


def test_a_payment_at_check_in_charges_the_copay_once_and_is_audited(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    _owing(appointment.patient, "10.00")
    response = _pay(desk, appointment, amount="35.00", method="card", copay="25.00")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert patient_balance(appointment.patient_id) == Decimal("0.00")
    copay = LedgerEntry.objects.get(is_copay=True)
    assert copay.appointment_id == appointment.pk and copay.amount == Decimal("25.00")
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert payment.method == "card" and payment.created_by == personas.front_desk
    event = AuditEvent.objects.get(object_type="ledger_entry", object_id=str(payment.pk))
    assert event.action == AuditAction.CREATE
    assert list(event.patient_ids) == [appointment.patient_id]
    # Back on the page: the co-pay is no longer asked, the receipt is one click away.
    html = desk.get(f"/flow/check-in/{appointment.pk}/").content.decode()
    assert "Co-pay for today" not in html and "Take a payment" not in html
    assert f"/billing/receipts/{payment.pk}/" in html


def test_the_database_refuses_a_second_copay_for_the_same_visit(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()

    def copay() -> LedgerEntry:
        return LedgerEntry.objects.create(
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            kind=EntryKind.CHARGE,
            amount=Decimal("25.00"),
            description="Co-pay",
            appointment=appointment,
            is_copay=True,
            created_at=timezone.now(),
        )

    copay()
    with pytest.raises(IntegrityError), transaction.atomic():
        copay()


def test_a_copay_already_charged_is_not_charged_again_and_nothing_is_taken(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")

    def take() -> services.CheckInPayment:
        return services.check_in_payment_record(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=appointment,
            amount=Decimal("25.00"),
            method="cash",
            copay=Decimal("25.00"),
        )

    take()
    with pytest.raises(services.BillingRefusedError, match="just recorded by someone else"):
        take()
    assert LedgerEntry.objects.count() == 2
    assert patient_balance(appointment.patient_id) == Decimal("0.00")


def test_two_officers_taking_the_copay_at_once_charge_it_once(
    transactional_ledger: None, personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    officers = 4 if connection.vendor == "postgresql" else 2
    barrier = threading.Barrier(officers)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            services.check_in_payment_record(
                context=SYSTEM_CONTEXT,
                user=personas.front_desk,
                appointment=appointment,
                amount=Decimal("25.00"),
                method="card",
                copay=Decimal("25.00"),
            )
            outcomes.append("paid")
        except services.BillingRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(officers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("paid") == 1, outcomes
    assert all("someone else" in o for o in outcomes if o != "paid")
    assert LedgerEntry.objects.filter(is_copay=True).count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1


@pytest.mark.parametrize(
    ("amount", "method", "message"),
    [
        ("ten dollars", "cash", "Type the amount in numbers, like 25.00."),
        ("-5", "cash", "The amount cannot be negative."),
        ("12.345", "cash", "Use at most two decimals (cents)."),
        ("99999999999", "cash", "That is too large"),
        ("20.00", "", "Choose how the patient paid."),
        ("20.00", "bitcoin", "Choose how the patient paid from the list."),
    ],
)
def test_a_payment_typed_wrong_gets_a_plain_message_and_keeps_what_was_typed(
    personas: Personas,
    desk: Client,
    make_appointment: MakeAppointment,
    amount: str,
    method: str,
    message: str,
) -> None:
    appointment = make_appointment()
    _owing(appointment.patient, "20.00")
    response = _pay(desk, appointment, amount=amount, method=method)
    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert message in html
    assert f'value="{amount}"' in html
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amount=st.text(max_size=40), method=st.text(max_size=12), copay=st.text(max_size=6))
def test_whatever_is_typed_into_the_payment_never_breaks_the_page(
    personas: Personas,
    desk: Client,
    make_appointment: MakeAppointment,
    amount: str,
    method: str,
    copay: str,
) -> None:
    appointment = make_appointment()
    _owing(appointment.patient, "20.00")
    clean = {k: v.replace("\x00", "") for k, v in (("amount", amount), ("method", method))}
    response = _pay(desk, appointment, **clean, copay=copay.replace("\x00", ""))
    assert response.status_code in (302, 400)  # type: ignore[attr-defined]


def test_the_receipt_shows_no_more_of_the_patient_than_name_and_mrn(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    patient = make_patient(
        personas.clinic,
        given_name="Rosalind",
        family_name="Okafor",
        phone="+12025550178",
        email="rosalind@example.org",
        address_line1="17 Quarry Lane",
    )
    appointment = make_appointment(patient)
    coverage_with_copay(personas, patient, "15.00", member_id="ZX998877")
    _pay(desk, appointment, amount="15.00", method="cheque", copay="15.00")
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    response = desk.get(f"/billing/receipts/{payment.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for shown in ("Rosalind Okafor", patient.mrn, "$15.00", "Check", "November 23, 2026"):
        assert shown in html
    # The visit is named by its date and provider, never by its type (it can tell a diagnosis).
    assert "with Mei Lee, MD" in html
    never = ("1980", "5550178", "555-0178", "rosalind@", "Quarry", "ZX998877", "Acme", "Follow-up")
    for hidden in never:
        assert hidden not in html, hidden
    assert AuditEvent.objects.filter(
        action=AuditAction.PRINT, object_type="receipt", object_id=str(payment.pk)
    ).exists()


def test_receipts_stay_inside_the_clinic_and_away_from_clinical_staff(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    _owing(appointment.patient, "20.00")
    services.check_in_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        amount=Decimal("20.00"),
        method="cash",
        copay=None,
    )
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    url = f"/billing/receipts/{payment.pk}/"
    assert login_client(Client(), personas.outsider).get(url).status_code == 404
    assert login_client(Client(), personas.nurse).get(url).status_code == 403
    assert login_client(Client(), personas.billing).get(url).status_code == 200
