"""The printed receipt: who received the money and where, for what, and what is still owed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import services
from frontdesk.billing.models import CashDrawer, EntryKind, LedgerEntry
from frontdesk.billing.tests.conftest import coverage_with_copay
from frontdesk.clinic.models import Location
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Schedule

# Payments go into the desk officer's open drawer.
pytestmark = pytest.mark.usefixtures("frozen", "desk_drawer")


@pytest.fixture
def desk(client: Client, personas: Personas) -> Client:
    return login_client(client, personas.front_desk)


def _charge(patient: Patient, amount: str, *, when: dt.datetime | None = None) -> None:
    LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal(amount),
        description="Visit of last month",
        created_at=when or timezone.now() - dt.timedelta(days=30),
    )


def _receipt(desk: Client, payment: LedgerEntry) -> str:
    response = desk.get(f"/billing/receipts/{payment.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_receipt_for_a_copay_names_the_visit_its_date_and_provider(
    personas: Personas,
    desk: Client,
    schedule: Schedule,
    make_appointment: MakeAppointment,
) -> None:
    Location.objects.filter(pk=schedule.location_id).update(
        address="1763 Molly Court, Singhville, DC 20016"
    )
    # The visit was yesterday; the payment is taken today.
    appointment = make_appointment(start=timezone.now() - dt.timedelta(days=1))
    coverage_with_copay(personas, appointment.patient, "25.00")
    LedgerEntry.objects.create(
        clinic_id=personas.clinic.pk,
        patient=appointment.patient,
        kind=EntryKind.CHARGE,
        amount=Decimal("25.00"),
        description=services.COPAY_DESCRIPTION,
        appointment=appointment,
        is_copay=True,
        created_at=timezone.now() - dt.timedelta(days=1),
    )
    payment = LedgerEntry.objects.create(
        clinic_id=personas.clinic.pk,
        patient=appointment.patient,
        kind=EntryKind.PAYMENT,
        amount=Decimal("25.00"),
        method="card",
        description="Payment at check-in",
        appointment=appointment,
        created_at=timezone.now(),
    )
    html = _receipt(desk, payment)
    assert "Riverside Family Clinic" in html
    assert "Northside" in html and "1763 Molly Court, Singhville, DC 20016" in html
    assert "Date of service" in html and "November 22, 2026" in html
    assert "Co-pay for the visit of November 22, 2026 with Mei Lee, MD" in html
    assert "Follow-up visit" not in html  # the visit's type can tell a diagnosis


def test_a_payment_on_account_is_dated_by_the_payment_and_shows_the_balance_left(
    personas: Personas, desk: Client, patient: Patient, desk_drawer: CashDrawer
) -> None:
    # The receipt names the place the money was taken: the drawer's location.
    Location.objects.create(clinic=personas.clinic, name="Main", address="1 Other Road")
    Location.objects.filter(pk=desk_drawer.location_id).update(address="4 Elm Street, Dover")
    _charge(patient, "100.00")
    payment = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("30.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    html = _receipt(desk, payment)
    assert "Payment on account" in html
    assert "November 23, 2026" in html
    assert "4 Elm Street, Dover" in html
    assert "Balance after this payment" in html and "$70.00" in html


def test_the_balance_on_a_receipt_is_the_one_left_by_that_payment_not_todays(
    personas: Personas, desk: Client, patient: Patient
) -> None:
    _charge(patient, "100.00")
    first = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("40.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("60.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    html = _receipt(desk, first)
    assert "$60.00" in html
    assert "Nothing owed" not in html


def test_a_receipt_in_credit_says_so(personas: Personas, desk: Client, patient: Patient) -> None:
    payment = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("15.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    assert "In credit: $15.00" in _receipt(desk, payment)


def test_the_receipt_has_a_print_button_run_by_a_static_script(
    personas: Personas, desk: Client, patient: Patient
) -> None:
    payment = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("15.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    html = _receipt(desk, payment)
    assert "data-print" in html and ">Print" in html
    assert "billing/receipt.js" in html
    assert "<script>" not in html and "onclick" not in html


def test_the_receipt_shows_none_of_the_patients_other_details(
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
    payment = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("15.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    html = _receipt(desk, payment)
    assert "Rosalind Okafor" in html and patient.mrn in html
    for hidden in ("1980", "5550178", "rosalind@", "Quarry"):
        assert hidden not in html, hidden
