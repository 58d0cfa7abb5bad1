"""The patient's balance statement (printable, audited as a print) and the receipt's reprint."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, open_drawer
from frontdesk.audit.models import AuditAction, AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import reversals, services
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.clinic.models import Location
from frontdesk.lib.pdf import pdf_text
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.usefixtures("frozen")


def _account(personas: Personas, patient: Patient) -> LedgerEntry:
    LedgerEntry.objects.create(
        clinic=personas.clinic,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal("120.00"),
        description="Office visit",
        created_at=timezone.now(),
    )
    open_drawer(personas.front_desk)
    payment = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("50.00"),
        method="card",
        request_key=uuid.uuid4(),
    )
    reversals.payment_void(
        context=SYSTEM_CONTEXT,
        user=personas.billing,
        payment_id=payment.pk,
        reason="Card declined",
        now=timezone.now(),
    )
    return payment


def test_the_statement_lists_every_line_with_the_running_balance_and_how_to_pay(
    personas: Personas, patient: Patient
) -> None:
    _account(personas, patient)
    Location.objects.filter(clinic=personas.clinic).update(
        address="4 Elm Street, Dover", phone="(302) 555-0100"
    )
    client = login_client(Client(), personas.front_desk)
    html = client.get(f"/billing/patients/{patient.pk}/statement/").content.decode()
    assert "statement of account" in html and patient.mrn in html
    assert "Office visit" in html and "Payment on account" in html and "Void: Card declined" in html
    # 120 owed, 50 paid (70), the payment voided (120 again).
    assert "$120.00 due" in html
    assert html.index("<table") < html.index("$70.00") < html.rindex("$120.00")
    assert "How to pay" in html and "payable to Riverside Family Clinic" in html
    assert "4 Elm Street, Dover" in html and "(302) 555-0100" in html
    assert "data-print" in html and "<script>" not in html
    event = AuditEvent.objects.get(object_type=AuditObject.BALANCE_STATEMENT)
    assert event.action == AuditAction.PRINT and list(event.patient_ids) == [patient.pk]


def test_the_statement_is_for_those_who_handle_money_in_the_clinic(
    personas: Personas, patient: Patient
) -> None:
    url = f"/billing/patients/{patient.pk}/statement/"
    assert login_client(Client(), personas.nurse).get(url).status_code == 403
    assert login_client(Client(), personas.billing).get(url).status_code == 200
    assert login_client(Client(), personas.outsider).get(url).status_code == 404


def test_a_receipt_printed_again_is_marked_as_a_copy_and_shows_its_void(
    personas: Personas, patient: Patient
) -> None:
    payment = _account(personas, patient)
    client = login_client(Client(), personas.front_desk)
    first = client.get(f"/billing/receipts/{payment.pk}/").content.decode()
    assert "data-reprint" not in first
    again = client.get(f"/billing/receipts/{payment.pk}/").content.decode()
    assert "Copy (reprinted)" in again
    assert "Void</strong> of $50.00" in again
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.PRINT, object_type=AuditObject.RECEIPT, object_id=str(payment.pk)
        ).count()
        == 2
    )


def test_the_statement_as_a_pdf_has_the_lines_the_balance_and_how_to_pay(
    personas: Personas, patient: Patient
) -> None:
    _account(personas, patient)
    Location.objects.filter(clinic=personas.clinic).update(address="4 Elm Street, Dover")
    client = login_client(Client(), personas.front_desk)
    page = client.get(f"/billing/patients/{patient.pk}/statement/").content.decode()
    assert f"/billing/patients/{patient.pk}/statement.pdf" in page
    response = client.get(f"/billing/patients/{patient.pk}/statement.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.content)
    assert "statement of account" in text and patient.mrn in text
    assert "Office visit" in text and "Void: Card declined" in text
    assert "$120.00 due" in text and "$70.00" in text
    assert "How to pay" in text and "payable to Riverside Family Clinic" in text
    events = AuditEvent.objects.filter(object_type=AuditObject.BALANCE_STATEMENT)
    assert [e.action for e in events] == [AuditAction.PRINT, AuditAction.PRINT]


def test_the_statement_pdf_is_for_those_who_handle_money_in_the_clinic(
    personas: Personas, patient: Patient
) -> None:
    url = f"/billing/patients/{patient.pk}/statement.pdf"
    assert login_client(Client(), personas.nurse).get(url).status_code == 403
    assert login_client(Client(), personas.outsider).get(url).status_code == 404
