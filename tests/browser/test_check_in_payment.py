"""Paying the co-pay at check-in in the browser: the officer sees the amount due, takes the
payment in the check-in form (a mistyped amount is explained and kept), and the chart's account
shows the co-pay and the payment with nothing owed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.billing.services import COPAY_DESCRIPTION
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.flow.models import ConsentKind, PatientConsent, QueueEntry
from frontdesk.patients.models import Coverage, Payer
from frontdesk.scheduling.models import Appointment, Schedule

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _due_now_with_a_copay(personas: Personas, copay: str) -> Appointment:
    """A patient due now whose primary coverage asks a co-pay; nothing else is outstanding."""
    today = timezone.localdate()
    patient = make_patient(
        personas.clinic,
        given_name="Rosa",
        family_name="Pinto",
        address_line1="4 Quay Road",
        address_confirmed_on=today - dt.timedelta(days=30),
    )
    payer = Payer.objects.create(clinic=personas.clinic, name="Blue Harbor Health")
    Coverage.objects.create(
        patient=patient,
        payer=payer,
        rank=1,
        member_id="BH456",
        effective_date=today - dt.timedelta(days=365),
        card_front="cards/front.png",
        copay=Decimal(copay),
    )
    PatientConsent.objects.create(
        patient=patient,
        kind=ConsentKind.TREATMENT,
        signed_on=today - dt.timedelta(days=30),
        recorded_at=timezone.now(),
    )
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee", credentials="MD"
    )
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    start = timezone.now().replace(second=0, microsecond=0)
    end = start + dt.timedelta(minutes=20)
    return Appointment.objects.create(
        clinic=personas.clinic,
        patient=patient,
        schedule=schedule,
        provider=provider,
        appointment_type=kind,
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )


def test_an_officer_takes_the_copay_by_card_with_the_check_in_and_the_chart_shows_nothing_owed(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    appointment = _due_now_with_a_copay(personas, "25.00")
    patient = appointment.patient
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)
    page.get_by_role("button", name="Check in Rosa").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check in Pinto, Rosa")
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

    expect(page.get_by_role("heading", level=1)).to_have_text("Check in Pinto, Rosa")
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
    expect(status).to_contain_text("Checked in Rosa Pinto: ticket A-001")

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
