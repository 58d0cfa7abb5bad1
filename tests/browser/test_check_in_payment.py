"""Paying the co-pay at check-in in the browser: the officer sees the amount due, takes the
payment in the check-in form (a mistyped amount is explained and kept), and the chart's account
shows the co-pay and the payment with nothing owed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, open_drawer
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.billing.services import COPAY_DESCRIPTION
from frontdesk.flow.models import QueueEntry

from .helpers import assert_accessible, sign_in
from .test_flow import _nothing_outstanding

pytestmark = pytest.mark.browser


def test_an_officer_takes_the_copay_by_card_with_the_check_in_and_the_chart_shows_nothing_owed(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    appointment = _nothing_outstanding(personas, copay=Decimal("25.00"))
    patient = appointment.patient
    open_drawer(personas.front_desk)
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)
    page.get_by_role("button", name="Check in Ines").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check in Duarte, Ines")
    expect(page.get_by_text("Co-pay for today: $25.00.")).to_be_visible()
    payment = page.get_by_role("region", name="Take a payment")
    expect(payment).to_contain_text("Due now: $25.00 (co-pay $25.00).")
    amount = payment.get_by_label("Amount received")
    expect(amount).to_have_value("25.00")
    assert_accessible(page)

    # A comma and a stray letter: refused in words, nothing recorded, everything typed kept.
    amount.fill("12,3x")
    payment.get_by_label("Paid by").select_option("card")
    readback = page.get_by_label("The patient confirmed their name and birth date as read back")
    readback.check()
    page.get_by_role("button", name="Check in and issue ticket").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check in Duarte, Ines")
    expect(payment).to_contain_text("Type the amount in numbers, like 25.00.")
    expect(amount).to_have_value("12,3x")
    expect(payment.get_by_label("Paid by")).to_have_value("card")
    expect(readback).to_be_checked()
    assert not LedgerEntry.objects.exists()
    assert not QueueEntry.objects.exists()
    assert_accessible(page)

    amount.fill("25.00")
    page.get_by_role("button", name="Check in and issue ticket").click()

    expect(page).to_have_url(re.compile(r"/flow/$"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("Payment of $25.00 recorded")
    expect(status).to_contain_text("Checked in Ines Duarte: ticket A-001")

    page.goto(f"/patients/{patient.pk}/")
    account = page.get_by_role("region", name="Account")
    expect(account).to_contain_text("Nothing owed.")
    body_rows = account.locator("tbody").get_by_role("row")
    expect(body_rows).to_have_count(2)
    a_date = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}$")
    expect(body_rows.filter(has_text=COPAY_DESCRIPTION).get_by_role("cell")).to_have_text(
        [a_date, "Charge", COPAY_DESCRIPTION, "$25.00"]
    )
    expect(body_rows.filter(has_text="Payment at check-in").get_by_role("cell")).to_have_text(
        [a_date, "Payment (card)", "Payment at check-in · receipt", "−$25.00"]
    )
    assert_accessible(page)

    charge, paid = LedgerEntry.objects.order_by("kind")
    assert (charge.kind, charge.amount, charge.is_copay) == (
        EntryKind.CHARGE,
        Decimal("25.00"),
        True,
    )
    assert (paid.kind, paid.amount, paid.method) == (EntryKind.PAYMENT, Decimal("25.00"), "card")
    assert charge.appointment_id == paid.appointment_id == appointment.pk
    assert patient_balance(patient.pk) == Decimal("0.00")
