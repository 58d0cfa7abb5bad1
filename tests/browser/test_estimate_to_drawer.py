"""From the payer's answer to the supervisor: check-in shows the co-pay the payer simulator
verified, the visit's page the estimate from it, the officer takes the co-pay in cash, closes
the drawer short beyond the tolerance with a reason, and the supervisor finds it on their desk
queue and on the day's drawers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from conftest import Personas, login_client, open_drawer
from frontdesk.billing.models import DrawerCloseOut, EntryKind, LedgerEntry
from frontdesk.documents.models import Document
from frontdesk.eligibility.models import (
    AppointmentTypeServices,
    EligibilityConnection,
    TransportKind,
    VisitFee,
)
from frontdesk.eligibility.simulator import Member, Simulator, Table, simulator_server
from frontdesk.patients.models import Coverage

from .helpers import assert_accessible, sign_in
from .test_flow import _nothing_outstanding

pytestmark = pytest.mark.browser


@pytest.fixture
def payer_simulator() -> Iterator[Simulator]:
    simulator = Simulator(Table.of([Member("BH123", "DUARTE", "INES", "19800102", copay="25.00")]))
    server = simulator_server(simulator, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    simulator.url = f"http://127.0.0.1:{server.server_address[1]}/core"
    yield simulator
    server.shutdown()
    server.server_close()


def test_the_verified_copay_taken_in_cash_and_a_short_drawer_reach_the_supervisor(
    transactional_audit: None, personas: Personas, page: Page, payer_simulator: Simulator
) -> None:
    appointment = _nothing_outstanding(personas, copay=Decimal("20.00"))
    AppointmentTypeServices.objects.create(
        appointment_type=appointment.appointment_type, codes="98"
    )
    VisitFee.objects.create(appointment_type=appointment.appointment_type, amount="150.00")
    EligibilityConnection.objects.create(
        clinic=personas.clinic,
        kind=TransportKind.CORE_SOAP,
        url=payer_simulator.url,
        is_simulator=True,
        sender_id="RIVERSIDE",
        receiver_id="SIMPAYER",
        provider_name="Riverside Family Clinic",
        provider_npi="1234567893",
        timeout_seconds=3,
        retries=0,
    )
    open_drawer(personas.front_desk, location_name="Northside")  # a $100.00 float
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)

    # Check-in: the payer (the simulator) verifies a $25 co-pay; the card said $20.
    page.get_by_role("button", name="Check in Ines").click()
    panel = page.locator("#eligibility-panel")
    panel.get_by_role("button", name="Verify now").click()
    expect(panel).to_contain_text("Verified today · active · co-pay $25 for an office visit")
    expect(panel).to_contain_text("payer simulator")
    expect(panel).to_contain_text("$25.00 today")
    panel.get_by_role("button", name="Use the payer's co-pay ($25.00)").click()
    payment = page.get_by_role("region", name="Take a payment")
    expect(payment.get_by_label("Amount received")).to_have_value("25.00")
    payment.get_by_label("Paid by").select_option("cash")
    page.get_by_label("The patient confirmed their name and birth date as read back").check()
    page.get_by_role("button", name="Check in and issue ticket").click()
    expect(page.get_by_role("status")).to_contain_text("Payment of $25.00 recorded")

    # The visit's page gives the same answer as the patient's estimate, printable.
    page.goto(f"/schedule/appointments/{appointment.pk}/")
    estimate = page.get_by_role("region", name="Estimate")
    expect(estimate).to_contain_text("Estimate: $25.00 today (co-pay), $0.00 later")
    expect(estimate.get_by_role("link", name="Print the estimate (PDF)")).to_be_visible()
    assert_accessible(page)

    # The close-out: $125.00 expected, $110.00 counted, beyond the $5.00 tolerance.
    page.get_by_role("link", name="Cash drawer").click()
    expect(page.locator("[data-expected-cash]")).to_have_text("$125.00")
    page.get_by_label("$20.00 notes").fill("5")
    page.get_by_label("$1.00 notes").fill("10")
    page.get_by_role("button", name="Close the drawer").click()
    expect(page.get_by_role("alert").first).to_contain_text("$15.00 short")
    page.get_by_label("Reason for the difference").fill("Gave change from a $20 twice")
    page.get_by_role("button", name="Close the drawer").click()
    expect(page.get_by_role("status")).to_contain_text("It is on the supervisor's desk queue")
    close_out = DrawerCloseOut.objects.get()
    assert close_out.variance == Decimal("-15.00") and close_out.beyond_tolerance
    cash = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert (cash.amount, cash.method) == (Decimal("25.00"), "cash")

    # The supervisor (two-step sign-in is walked in test_sign_in.py; the session is handed over).
    page.context.clear_cookies()
    client = login_client(Client(), personas.supervisor)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": re.sub(r"^(https?://[^/]+).*$", r"\1/", page.url),
            }
        ]
    )
    page.goto("/desk/")
    item = page.get_by_role("row").filter(has_text="Review a drawer variance")
    expect(item).to_contain_text("$15.00 short")
    assert_accessible(page)
    item.get_by_role("link", name="Review a drawer variance", exact=True).click()
    expect(page.locator("[data-variance]")).to_contain_text("$15.00 short")
    expect(page.get_by_text("Gave change from a $20 twice")).to_be_visible()
    assert_accessible(page)


def test_a_self_pay_patient_is_offered_assistance_and_given_a_good_faith_estimate(
    transactional_audit: None, personas: Personas, page: Page, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    appointment = _nothing_outstanding(personas)
    Coverage.objects.filter(patient=appointment.patient).delete()  # uninsured
    VisitFee.objects.create(
        appointment_type=appointment.appointment_type, amount="150.00", service_code="99213"
    )
    page.goto(f"/accounts/login/?next=/schedule/appointments/{appointment.pk}/")
    sign_in(page, personas.front_desk)

    estimate = page.get_by_role("region", name="Estimate")
    expect(estimate).to_contain_text("Estimate: $150.00 today (self-pay), $0.00 later")
    expect(estimate).to_contain_text("offer the clinic's financial assistance")
    estimate.get_by_role("link", name="Financial assistance").click()
    page.get_by_label("The patient").select_option("applied")
    page.get_by_label("People in the household").fill("3")
    page.get_by_label("Household income for the year").fill("12,50")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Use a point for cents, like 12.50.")).to_be_visible()
    expect(page.get_by_label("Household income for the year")).to_have_value("12,50")
    expect(page.get_by_label("People in the household")).to_have_value("3")
    assert_accessible(page)
    page.get_by_label("Household income for the year").fill("40000")
    page.get_by_role("button", name="Record").click()

    expect(page.get_by_role("status")).to_contain_text("Financial assistance recorded: applied")
    estimate = page.get_by_role("region", name="Estimate")
    expect(estimate).to_contain_text("Estimate: $75.00 today (self-pay, sliding fee)")
    assert_accessible(page)
    estimate.get_by_role("button", name="Give the good-faith estimate").click()
    expect(page.get_by_role("status")).to_contain_text("The good-faith estimate is filed")
    document = Document.objects.get(patient=appointment.patient)
    assert document.title.startswith("Good-faith estimate for the visit of")
