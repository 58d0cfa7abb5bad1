from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from conftest import Personas, open_drawer
from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditEvent
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.patients.models import Coverage, Patient, Payer


def test_money_is_for_the_desk_billing_and_supervisors_only() -> None:
    for action in (Action.BILLING_VIEW, Action.BILLING_POST):
        allowed = {role for role in Role if role_may(role, action)}
        assert allowed == {Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}


def test_only_billing_and_supervisors_may_post_charges_and_write_offs() -> None:
    allowed = {role for role in Role if role_may(role, Action.BILLING_ADJUST)}
    assert allowed == {Role.BILLING, Role.SUPERVISOR}


def test_it_refuses_a_write_off_posted_by_the_desk_and_changes_nothing(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client_for(personas.billing).post(
        f"/billing/patients/{patient.pk}/entries/new/",
        {"kind": "charge", "amount": "100", "reason": "Missed appointment fee"},
    )
    desk = client_for(personas.front_desk)
    for kind in ("credit", "charge"):
        response = desk.post(
            f"/billing/patients/{patient.pk}/entries/new/",
            {"kind": kind, "amount": "40.00", "reason": "Waived at the desk"},
        )
        assert response.status_code == 403
    assert list(LedgerEntry.objects.values_list("kind", flat=True)) == [EntryKind.CHARGE]
    assert patient_balance(patient.pk) == Decimal("100.00")


def test_the_desks_account_panel_offers_payments_only(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    html = client_for(personas.front_desk).get(f"/patients/{patient.pk}/").content.decode()
    assert f"/billing/patients/{patient.pk}/payments/new/" in html
    assert f"/billing/patients/{patient.pk}/entries/new/" not in html
    assert "Adjustment credit" not in html
    for user in (personas.billing, personas.supervisor):
        html = client_for(user).get(f"/patients/{patient.pk}/").content.decode()
        assert "Adjustment credit" in html


def test_the_desk_takes_a_payment_from_the_chart_once_per_form(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    open_drawer(personas.front_desk)
    desk = client_for(personas.front_desk)
    form = {"amount": "20.00", "method": "card", "request_key": str(uuid.uuid4())}
    for _ in range(2):
        response = desk.post(f"/billing/patients/{patient.pk}/payments/new/", form)
        assert response.status_code == 302
    payment = LedgerEntry.objects.get()
    assert (payment.kind, payment.amount, payment.method) == ("payment", Decimal("20.00"), "card")
    assert patient_balance(patient.pk) == Decimal("-20.00")
    assert AuditEvent.objects.filter(object_type="ledger_entry", object_id=str(payment.pk)).exists()


def test_a_chart_payment_typed_wrong_keeps_what_was_typed(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).post(
        f"/billing/patients/{patient.pk}/payments/new/",
        {"amount": "20.00", "method": "", "request_key": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose how the patient paid." in html and 'value="20.00"' in html
    assert not LedgerEntry.objects.exists()


def test_the_chart_shows_the_balance_and_latest_entries_to_those_who_handle_money(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    billing = client_for(personas.billing)
    billing.post(
        f"/billing/patients/{patient.pk}/entries/new/",
        {"kind": "charge", "amount": "45.00", "reason": "Forms completed for school"},
    )
    for user in (personas.front_desk, personas.billing, personas.supervisor):
        html = client_for(user).get(f"/patients/{patient.pk}/").content.decode()
        assert "Balance due $45.00" in html and "Forms completed for school" in html
        assert f"/billing/patients/{patient.pk}/payments/new/" in html
    for user in (personas.nurse, personas.physician):
        html = client_for(user).get(f"/patients/{patient.pk}/").content.decode()
        assert "Balance due" not in html and "Forms completed" not in html


def test_clinical_staff_cannot_add_charges_or_credits(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    for user in (personas.nurse, personas.physician, personas.admin):
        response = client_for(user).post(
            f"/billing/patients/{patient.pk}/entries/new/",
            {"kind": "credit", "amount": "5.00", "reason": "goodwill"},
        )
        assert response.status_code == 403
    assert not LedgerEntry.objects.exists()


def test_another_clinic_cannot_touch_the_account(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.outsider).post(
        f"/billing/patients/{patient.pk}/entries/new/",
        {"kind": "charge", "amount": "5.00", "reason": "x"},
    )
    assert response.status_code in (403, 404)
    assert not LedgerEntry.objects.exists()


def test_a_credit_with_its_reason_lowers_the_balance_and_is_audited(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    desk = client_for(personas.billing)
    desk.post(
        f"/billing/patients/{patient.pk}/entries/new/",
        {"kind": "charge", "amount": "100", "reason": "Missed appointment fee"},
    )
    response = desk.post(
        f"/billing/patients/{patient.pk}/entries/new/",
        {"kind": "credit", "amount": "$40.00", "reason": "Part waived by the supervisor"},
    )
    assert response.status_code == 302
    assert patient_balance(patient.pk) == Decimal("60.00")
    credit = LedgerEntry.objects.get(kind=EntryKind.CREDIT)
    assert credit.description == "Part waived by the supervisor"
    assert AuditEvent.objects.filter(object_type="ledger_entry", object_id=str(credit.pk)).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "charge", "amount": "abc", "reason": "Fee"}, "in numbers"),
        ({"kind": "charge", "amount": "-3", "reason": "Fee"}, "cannot be negative"),
        ({"kind": "charge", "amount": "3.999", "reason": "Fee"}, "at most two decimals"),
        ({"kind": "charge", "amount": "1" * 20, "reason": "Fee"}, "too large"),
        ({"kind": "charge", "amount": "3", "reason": ""}, "Say what the entry is for."),
        ({"kind": "payment", "amount": "3", "reason": "Fee"}, "Choose a charge or a credit."),
    ],
)
def test_an_entry_typed_wrong_gets_a_plain_message_and_keeps_what_was_typed(
    personas: Personas,
    patient: Patient,
    client_for: Callable[[User], Client],
    data: dict[str, str],
    message: str,
) -> None:
    response = client_for(personas.billing).post(
        f"/billing/patients/{patient.pk}/entries/new/", data
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert f'value="{data["amount"]}"' in html
    if data["reason"]:
        assert f'value="{data["reason"]}"' in html
    assert not LedgerEntry.objects.exists()


def _coverage(payer: Payer, copay: str) -> dict[str, str]:
    return {
        "rank": "1",
        "payer": str(payer.pk),
        "member_id": "ACM123",
        "relationship": "self",
        "effective_date": "01/01/2026",
        "copay": copay,
    }


@pytest.mark.parametrize(
    ("copay", "stored"), [("25", Decimal("25.00")), ("$7.50", Decimal("7.50")), ("", None)]
)
def test_the_coverage_form_keeps_a_copay(
    personas: Personas,
    patient: Patient,
    client_for: Callable[[User], Client],
    copay: str,
    stored: Decimal | None,
) -> None:
    payer = Payer.objects.create(clinic=personas.clinic, name="Acme Health")
    response = client_for(personas.front_desk).post(
        f"/patients/{patient.pk}/coverages/new/", _coverage(payer, copay)
    )
    assert response.status_code == 302
    assert Coverage.objects.get(patient=patient).copay == stored


@pytest.mark.parametrize(
    ("copay", "message"),
    [
        ("twenty", "in numbers"),
        ("-5", "cannot be negative"),
        ("5.255", "at most two decimals"),
        ("1000000", "too large"),
    ],
)
def test_a_copay_typed_wrong_gets_a_plain_message_and_keeps_what_was_typed(
    personas: Personas,
    patient: Patient,
    client_for: Callable[[User], Client],
    copay: str,
    message: str,
) -> None:
    payer = Payer.objects.create(clinic=personas.clinic, name="Acme Health")
    response = client_for(personas.front_desk).post(
        f"/patients/{patient.pk}/coverages/new/", _coverage(payer, copay)
    )
    html = response.content.decode()
    assert response.status_code in (200, 400)
    assert message in html and f'value="{copay}"' in html
    assert not Coverage.objects.exists()


def test_payment_methods_are_spelled_as_the_clinics_currency_country_spells_them(
    personas: Personas,
    patient: Patient,
    client_for: Callable[[User], Client],
    settings: Any,
) -> None:
    open_drawer(personas.front_desk)
    desk = client_for(personas.front_desk)
    html = desk.get(f"/patients/{patient.pk}/").content.decode()
    assert ">Check</option>" in html and "Cheque" not in html
    desk.post(
        f"/billing/patients/{patient.pk}/payments/new/",
        {"amount": "20.00", "method": "cheque", "request_key": str(uuid.uuid4())},
    )
    receipt = desk.get(f"/billing/receipts/{LedgerEntry.objects.get().pk}/").content.decode()
    assert "Check" in receipt and "Cheque" not in receipt
    settings.CLINIC_CURRENCY = "GBP"
    html = desk.get(f"/patients/{patient.pk}/").content.decode()
    assert ">Cheque</option>" in html and "(cheque)" in html and ">Check<" not in html
