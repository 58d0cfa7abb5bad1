"""Voids and refunds: reversing entries with a reason, for billing and supervisors only; the
payment itself is never changed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, open_drawer
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import drawer, reversals, services
from frontdesk.billing.drawer_selectors import drawer_totals
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.flow.tests.conftest import NOW
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.usefixtures("frozen")


def _take(personas: Personas, patient: Patient, amount: str, method: str) -> LedgerEntry:
    return services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal(amount),
        method=method,
        request_key=uuid.uuid4(),
    )


def _void(user: object, payment: LedgerEntry, reason: str = "Typed twice") -> LedgerEntry:
    return reversals.payment_void(
        context=SYSTEM_CONTEXT,
        user=user,  # type: ignore[arg-type]
        payment_id=payment.pk,
        reason=reason,
        now=timezone.now(),
    )


def _refund(
    user: object, payment: LedgerEntry, amount: str, method: str = "cash", reason: str = "Overpaid"
) -> LedgerEntry:
    return reversals.payment_refund(
        context=SYSTEM_CONTEXT,
        user=user,  # type: ignore[arg-type]
        payment_id=payment.pk,
        amount=Decimal(amount),
        method=method,
        reason=reason,
        now=timezone.now(),
    )


def test_a_void_reverses_todays_payment_in_its_drawer_and_leaves_the_payment_as_it_was(
    personas: Personas, patient: Patient
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="20.00")
    payment = _take(personas, patient, "30.00", "cash")
    assert patient_balance(patient.pk) == Decimal("-30.00")
    void = _void(personas.billing, payment)
    assert (void.kind, void.amount, void.method) == (EntryKind.VOID, Decimal("30.00"), "cash")
    assert void.reverses == payment and void.drawer == opened
    assert void.description == "Void: Typed twice" and void.created_by == personas.billing
    assert patient_balance(patient.pk) == Decimal("0.00")
    assert drawer_totals([opened])[opened.pk].expected_cash == Decimal("20.00")
    payment.refresh_from_db()
    assert payment.kind == EntryKind.PAYMENT and payment.amount == Decimal("30.00")
    event = AuditEvent.objects.get(object_type="ledger_entry", object_id=str(void.pk))
    assert event.detail["reverses"] == payment.pk and list(event.patient_ids) == [patient.pk]


def test_a_payment_is_voided_once_by_the_service_and_by_the_database(
    personas: Personas, patient: Patient
) -> None:
    open_drawer(personas.front_desk)
    payment = _take(personas, patient, "30.00", "card")
    void = _void(personas.supervisor, payment)
    with pytest.raises(services.BillingRefusedError, match="voided already"):
        _void(personas.supervisor, payment)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            clinic=personas.clinic,
            patient=patient,
            kind=EntryKind.VOID,
            amount=payment.amount,
            method="card",
            description="Again",
            reverses=payment,
            drawer=void.drawer,
            created_at=timezone.now(),
        )


def test_a_reversal_must_name_its_payment_in_the_database(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            clinic=personas.clinic,
            patient=patient,
            kind=EntryKind.REFUND,
            amount=Decimal("5.00"),
            method="cash",
            description="Refund of nothing",
            created_at=timezone.now(),
        )


def test_a_payment_of_a_closed_drawer_is_refunded_not_voided(
    personas: Personas, patient: Patient
) -> None:
    opened = open_drawer(personas.front_desk, opening_float="0.00")
    payment = _take(personas, patient, "10.00", "cash")
    drawer.drawer_close(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        drawer_id=opened.pk,
        counts={"d10": 1},
        reason="",
        now=timezone.now(),
    )
    with pytest.raises(services.BillingRefusedError, match="give a refund instead"):
        _void(personas.billing, payment)
    assert not LedgerEntry.objects.filter(kind=EntryKind.VOID).exists()


def test_yesterdays_payment_is_not_voided_even_in_a_drawer_left_open(
    personas: Personas, patient: Patient
) -> None:
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        open_drawer(personas.front_desk)
        payment = _take(personas, patient, "10.00", "cash")
    with pytest.raises(services.BillingRefusedError, match="Only today's payments"):
        _void(personas.billing, payment)


def test_a_refund_gives_cash_back_from_the_refunders_drawer_up_to_what_is_left(
    personas: Personas, patient: Patient
) -> None:
    open_drawer(personas.front_desk)
    refunder_drawer = open_drawer(personas.billing, opening_float="50.00")
    payment = _take(personas, patient, "40.00", "cash")
    first = _refund(personas.billing, payment, "15.00")
    assert first.kind == EntryKind.REFUND and first.drawer == refunder_drawer
    assert first.reverses == payment and first.description == "Refund: Overpaid"
    assert drawer_totals([refunder_drawer])[refunder_drawer.pk].expected_cash == Decimal("35.00")
    assert patient_balance(patient.pk) == Decimal("-25.00")
    with pytest.raises(services.BillingRefusedError, match=r"At most \$25.00"):
        _refund(personas.billing, payment, "25.01")
    _refund(personas.billing, payment, "25.00")
    assert patient_balance(patient.pk) == Decimal("0.00")
    # Partly refunded: no void any more.
    with pytest.raises(services.BillingRefusedError, match="refund the rest"):
        _void(personas.billing, payment)


def test_a_cash_refund_never_takes_more_than_the_drawer_holds(
    personas: Personas, patient: Patient
) -> None:
    open_drawer(personas.front_desk)
    open_drawer(personas.billing, opening_float="10.00")
    payment = _take(personas, patient, "40.00", "cash")
    with pytest.raises(services.BillingRefusedError, match=r"holds \$10.00 in cash"):
        _refund(personas.billing, payment, "20.00")
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_only_a_card_payment_is_refunded_to_a_card(personas: Personas, patient: Patient) -> None:
    open_drawer(personas.front_desk)
    open_drawer(personas.billing, opening_float="0.00")
    cash = _take(personas, patient, "40.00", "cash")
    card = _take(personas, patient, "40.00", "card")
    with pytest.raises(services.BillingRefusedError, match="Only a card payment"):
        _refund(personas.billing, cash, "5.00", method="card")
    refund = _refund(personas.billing, card, "40.00", method="card")
    assert refund.method == "card"


def test_a_refund_needs_a_reason_an_open_drawer_and_a_payment_not_voided(
    personas: Personas, patient: Patient
) -> None:
    open_drawer(personas.front_desk)
    payment = _take(personas, patient, "40.00", "card")
    with pytest.raises(services.BillingRefusedError, match="Say why"):
        _refund(personas.billing, payment, "5.00", method="card", reason=" ")
    with pytest.raises(services.DrawerRequiredError):
        _refund(personas.billing, payment, "5.00", method="card")
    _void(personas.billing, payment)
    open_drawer(personas.billing)
    with pytest.raises(services.BillingRefusedError, match="was voided"):
        _refund(personas.billing, payment, "5.00", method="card")


def test_another_clinics_payment_cannot_be_reversed(personas: Personas, patient: Patient) -> None:
    open_drawer(personas.front_desk)
    payment = _take(personas, patient, "40.00", "cash")
    open_drawer(personas.outsider)
    with pytest.raises(services.BillingRefusedError, match="No such payment"):
        _void(personas.outsider, payment)


def test_voids_and_refunds_are_for_billing_and_supervisors_from_the_chart(
    personas: Personas, patient: Patient
) -> None:
    open_drawer(personas.front_desk)
    payment = _take(personas, patient, "40.00", "cash")
    for role, user in personas.by_role().items():
        client = login_client(Client(), user)
        for page in ("void", "refund"):
            status = client.get(f"/billing/payments/{payment.pk}/{page}/").status_code
            allowed = role in (Role.BILLING, Role.SUPERVISOR)
            assert status == (200 if allowed else 403), (role, page)
        chart = client.get(f"/patients/{patient.pk}/").content.decode()
        link = f'href="/billing/payments/{payment.pk}/void/"' in chart
        assert link == (role in (Role.BILLING, Role.SUPERVISOR)), role
    desk = login_client(Client(), personas.front_desk)
    assert desk.post(f"/billing/payments/{payment.pk}/void/", {"reason": "x"}).status_code == 403
    assert not LedgerEntry.objects.filter(kind=EntryKind.VOID).exists()


def test_the_void_page_refuses_in_words_and_keeps_the_reason(
    personas: Personas, patient: Patient
) -> None:
    open_drawer(personas.front_desk)
    payment = _take(personas, patient, "40.00", "cash")
    client = login_client(Client(), personas.billing)
    empty = client.post(f"/billing/payments/{payment.pk}/void/", {"reason": ""})
    assert empty.status_code == 400 and "Say why the payment is voided." in empty.content.decode()
    done = client.post(f"/billing/payments/{payment.pk}/void/", {"reason": "Wrong patient"})
    assert done.status_code == 302
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Void: Wrong patient" in chart and " · voided" in chart
    assert f'href="/billing/payments/{payment.pk}/void/"' not in chart
    again = client.post(f"/billing/payments/{payment.pk}/void/", {"reason": "Wrong patient"})
    html = again.content.decode()
    assert again.status_code == 400 and "voided already" in html and "Wrong patient" in html


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12,50", "Use a point for cents, like 12.50."),
        ("1e3", "Type the amount in numbers, like 25.00."),
        ("-5", "The amount cannot be negative."),
    ],
)
def test_the_refund_page_explains_an_amount_typed_wrong_and_keeps_it(
    personas: Personas, patient: Patient, amount: str, message: str
) -> None:
    open_drawer(personas.front_desk)
    payment = _take(personas, patient, "40.00", "cash")
    client = login_client(Client(), personas.supervisor)
    response = client.post(
        f"/billing/payments/{payment.pk}/refund/",
        {"amount": amount, "method": "cash", "reason": "Overpaid"},
    )
    html = response.content.decode()
    assert response.status_code == 400 and message in html and f'value="{amount}"' in html
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()
