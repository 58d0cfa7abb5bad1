"""The visit's co-pay at check-in: charged when the patient is checked in, once, for the amount
the desk was shown; payments recorded once however often the button is pressed."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import services
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.billing.tests.conftest import coverage_with_copay
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import Coverage, Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus

# Payments go into the desk officer's open drawer.
pytestmark = pytest.mark.usefixtures("frozen", "desk_drawer")

CHECK_IN = {"identity_confirmed": "on", "priority": "normal", "consent_signed": "on"}


@pytest.fixture
def desk(client: Client, personas: Personas) -> Client:
    return login_client(client, personas.front_desk)


def _page(desk: Client, appointment: Appointment) -> str:
    return desk.get(f"/flow/check-in/{appointment.pk}/").content.decode()


def _pay(desk: Client, appointment: Appointment, **data: str) -> object:
    sent = {"record_payment": "1", "request_key": str(uuid.uuid4()), **data}
    return desk.post(f"/flow/check-in/{appointment.pk}/", sent)


def _entry(patient: Patient, kind: str, amount: str) -> LedgerEntry:
    return LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        amount=Decimal(amount),
        description="Earlier visit",
        created_at=timezone.now(),
    )


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'type="hidden" name="{name}"(?: value="([^"]*)")?', html)
    assert found is not None, name
    return found.group(1) or ""


# --- 1. and 14. The co-pay is owed from check-in, with its own audit record ----------------------


def test_checking_in_without_paying_charges_the_copay_with_its_own_audit_record(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    response = desk.post(f"/flow/check-in/{appointment.pk}/", CHECK_IN)
    assert response.status_code == 302
    copay = LedgerEntry.objects.get(is_copay=True)
    assert copay.amount == Decimal("25.00") and copay.appointment_id == appointment.pk
    assert copay.created_by == personas.front_desk
    assert patient_balance(appointment.patient_id) == Decimal("25.00")
    event = AuditEvent.objects.get(object_type="ledger_entry", object_id=str(copay.pk))
    assert event.action == AuditAction.CREATE and list(event.patient_ids) == [
        appointment.patient_id
    ]
    assert event.detail["copay"] is True
    # The desk can still take the money after the check-in, on the same page.
    html = _page(desk, appointment)
    assert "Already checked in" in html and "Take a payment" in html
    assert re.search(r'name="amount"[^>]*value="25.00"', html)
    paid = _pay(desk, appointment, amount="25.00", method="cash", copay="")
    assert paid.status_code == 302  # type: ignore[attr-defined]
    assert patient_balance(appointment.patient_id) == Decimal("0.00")
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    html = _page(desk, appointment)
    assert "Take a payment" not in html and f"/billing/receipts/{payment.pk}/" in html


def test_a_copay_paid_before_check_in_is_not_charged_again_at_check_in(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    assert _pay(desk, appointment, amount="25.00", method="card", copay="25.00").status_code == 302  # type: ignore[attr-defined]
    assert desk.post(f"/flow/check-in/{appointment.pk}/", CHECK_IN).status_code == 302
    assert LedgerEntry.objects.filter(is_copay=True).count() == 1
    assert patient_balance(appointment.patient_id) == Decimal("0.00")


def test_checking_in_a_patient_without_a_copay_charges_nothing(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, None)
    assert desk.post(f"/flow/check-in/{appointment.pk}/", CHECK_IN).status_code == 302
    assert not LedgerEntry.objects.exists()


# --- 2. One press, one payment ---------------------------------------------------------------


def test_pressing_the_payment_button_twice_records_the_payment_once(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    html = _page(desk, appointment)
    key = _hidden(html, "request_key")
    assert uuid.UUID(key)
    sent = {"amount": "25.00", "method": "cash", "copay": "25.00", "request_key": key}
    first = _pay(desk, appointment, **sent)
    second = _pay(desk, appointment, **sent)
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert first.status_code == 302  # type: ignore[attr-defined]
    assert second.status_code == 302  # type: ignore[attr-defined]
    assert second["Location"] == f"/billing/receipts/{payment.pk}/"  # type: ignore[index]
    assert LedgerEntry.objects.filter(is_copay=True).count() == 1
    receipt = desk.get(second["Location"]).content.decode()  # type: ignore[index]
    assert "already recorded" in receipt
    assert patient_balance(appointment.patient_id) == Decimal("0.00")


def test_the_service_records_a_payment_sent_twice_with_one_key_once(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    key = uuid.uuid4()

    def take() -> services.CheckInPayment:
        return services.check_in_payment_record(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=appointment,
            amount=Decimal("10.00"),
            method="cash",
            copay=None,
            request_key=key,
        )

    first = take()
    with pytest.raises(services.PaymentAlreadyRecordedError) as again:
        take()
    assert again.value.payment.pk == first.payment.pk
    assert LedgerEntry.objects.count() == 1


def test_the_payment_key_of_an_entry_can_never_be_changed(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    taken = services.check_in_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        amount=Decimal("10.00"),
        method="cash",
        copay=None,
        request_key=uuid.uuid4(),
    )
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=taken.payment.pk).update(request_key=uuid.uuid4())
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=taken.payment.pk).update(request_key=None)


# --- 3. No money against a cancelled visit or one on another day ----------------------------------


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.NOSHOW, AppointmentStatus.FULFILLED]
)
def test_no_payment_is_taken_at_check_in_for_a_visit_that_cannot_be_checked_in(
    personas: Personas, desk: Client, make_appointment: MakeAppointment, status: str
) -> None:
    appointment = make_appointment(status=status)
    coverage_with_copay(personas, appointment.patient, "25.00")
    html = _page(desk, appointment)
    assert "Take a payment" not in html
    response = _pay(desk, appointment, amount="25.00", method="cash", copay="25.00")
    text = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "cannot be checked in" in text or "This appointment is" in text
    assert 'value="25.00"' in text
    assert not LedgerEntry.objects.exists()


def test_no_payment_is_taken_at_check_in_for_a_visit_on_another_day(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment(start=timezone.now() + dt.timedelta(days=2))
    coverage_with_copay(personas, appointment.patient, "25.00")
    response = _pay(desk, appointment, amount="25.00", method="cash", copay="25.00")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "not today" in response.content.decode()  # type: ignore[attr-defined]
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("status", "days", "message"),
    [
        (AppointmentStatus.CANCELLED, 0, "cancelled"),
        (AppointmentStatus.NOSHOW, 0, "no-show"),
        (AppointmentStatus.ENTERED_IN_ERROR, 0, "entered in error"),
        (AppointmentStatus.BOOKED, 1, "not today"),
        (AppointmentStatus.BOOKED, -1, "not today"),
    ],
)
def test_the_service_refuses_a_copay_for_a_visit_not_happening_today(
    personas: Personas, make_appointment: MakeAppointment, status: str, days: int, message: str
) -> None:
    appointment = make_appointment(
        status=status, start=timezone.now() + dt.timedelta(days=days, minutes=15)
    )
    coverage_with_copay(personas, appointment.patient, "25.00")
    with pytest.raises(services.BillingRefusedError, match=message):
        services.check_in_payment_record(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=appointment,
            amount=Decimal("25.00"),
            method="cash",
            copay=Decimal("25.00"),
        )
    assert not LedgerEntry.objects.exists()


# --- 4. and 6. The co-pay charged is the one shown ---------------------------------------------


def test_a_copay_changed_since_the_page_was_shown_is_refused_and_can_be_taken_at_once_after(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage = coverage_with_copay(personas, appointment.patient, "25.00")
    html = _page(desk, appointment)
    shown = _hidden(html, "copay")
    key = _hidden(html, "request_key")
    assert shown == "25.00"
    Coverage.objects.filter(pk=coverage.pk).update(copay=Decimal("40.00"))
    sent = {"amount": "25.00", "method": "card", "copay": shown, "request_key": key}
    refused = _pay(desk, appointment, **sent)
    text = refused.content.decode()  # type: ignore[attr-defined]
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "changed from $25.00: it is now $40.00" in text
    assert re.search(r'name="amount"[^>]*value="25.00"', text)  # what was typed stays
    assert 'value="card" selected' in text
    assert "Due now: $40.00" in text
    assert not LedgerEntry.objects.exists()
    # Sent again as re-shown (the new co-pay in the form), it goes through.
    again = {"amount": "40.00", "method": "card", "copay": _hidden(text, "copay")}
    again["request_key"] = _hidden(text, "request_key")
    assert again["copay"] == "40.00"
    assert _pay(desk, appointment, **again).status_code == 302  # type: ignore[attr-defined]
    assert LedgerEntry.objects.get(is_copay=True).amount == Decimal("40.00")
    assert patient_balance(appointment.patient_id) == Decimal("0.00")


def test_a_copay_removed_since_the_page_was_shown_is_not_charged(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage = coverage_with_copay(personas, appointment.patient, "25.00")
    Coverage.objects.filter(pk=coverage.pk).update(copay=None)
    with pytest.raises(services.BillingRefusedError, match="none is asked any more"):
        services.check_in_payment_record(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=appointment,
            amount=Decimal("25.00"),
            method="cash",
            copay=Decimal("25.00"),
        )
    assert not LedgerEntry.objects.exists()


# --- 5. A patient in credit ---------------------------------------------------------------------


def test_a_patient_in_credit_is_asked_only_for_what_the_credit_does_not_cover(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    _entry(appointment.patient, EntryKind.CREDIT, "10.00")
    html = _page(desk, appointment)
    assert "Due now: $15.00" in html
    assert re.search(r'name="amount"[^>]*value="15.00"', html)


def test_a_patient_whose_credit_covers_the_copay_is_asked_for_nothing(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    _entry(appointment.patient, EntryKind.CREDIT, "40.00")
    html = _page(desk, appointment)
    assert "Take a payment" not in html


# --- 8. An amount typed before pressing "Check in" is not lost ------------------------------------


def _key(desk: Client, appointment: Appointment) -> dict[str, str]:
    html = _page(desk, appointment)
    return {"copay": _hidden(html, "copay"), "request_key": _hidden(html, "request_key")}


def test_an_amount_typed_before_pressing_check_in_is_recorded_with_the_check_in(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    sent = {**CHECK_IN, **_key(desk, appointment), "amount": "20.00", "method": "card"}
    response = desk.post(f"/flow/check-in/{appointment.pk}/", sent)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert payment.amount == Decimal("20.00") and payment.method == "card"
    assert LedgerEntry.objects.filter(is_copay=True).count() == 1
    assert patient_balance(appointment.patient_id) == Decimal("5.00")
    assert f"/billing/receipts/{payment.pk}/" in _page(desk, appointment)


def test_checking_in_with_the_prefilled_amount_and_no_method_takes_no_payment(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    sent = {**CHECK_IN, **_key(desk, appointment), "amount": "25.00", "method": ""}
    assert desk.post(f"/flow/check-in/{appointment.pk}/", sent).status_code == 302
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()
    assert LedgerEntry.objects.filter(is_copay=True).count() == 1


@pytest.mark.parametrize(
    ("amount", "method", "message"),
    [
        ("ten dollars", "cash", "Type the amount in numbers, like 25.00."),
        ("12.00", "", "Choose how the patient paid."),
    ],
)
def test_a_payment_typed_wrong_with_the_check_in_stops_both_and_keeps_what_was_typed(
    personas: Personas,
    desk: Client,
    make_appointment: MakeAppointment,
    amount: str,
    method: str,
    message: str,
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    sent = {**CHECK_IN, **_key(desk, appointment), "amount": amount, "method": method}
    response = desk.post(f"/flow/check-in/{appointment.pk}/", sent)
    text = response.content.decode()
    assert response.status_code == 400
    assert message in text and f'value="{amount}"' in text
    assert re.search(r'name="identity_confirmed"[^>]*checked', text)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert not LedgerEntry.objects.exists()


def test_the_payment_and_the_check_in_are_one_form_on_the_page(
    personas: Personas, desk: Client, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    html = _page(desk, appointment)
    start = html.rfind("<form", 0, html.index("Take a payment"))
    form = html[start : html.index("</form>", start)]
    assert 'name="amount"' in form and 'name="identity_confirmed"' in form


def test_the_same_payment_sent_from_two_windows_at_once_is_recorded_once(
    transactional_ledger: None, personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    coverage_with_copay(personas, appointment.patient, "25.00")
    key = uuid.uuid4()
    sends = 4 if connection.vendor == "postgresql" else 2
    barrier = threading.Barrier(sends)
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
                request_key=key,
            )
            outcomes.append("paid")
        except services.PaymentAlreadyRecordedError:
            outcomes.append("already recorded")
        except services.BillingRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already recorded"] * (sends - 1) + ["paid"], outcomes
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert LedgerEntry.objects.filter(is_copay=True).count() == 1
