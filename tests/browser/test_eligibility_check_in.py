"""Eligibility at check-in in the browser: the officer asks the payer (the simulator, over
HTTP), sees "Verified today · active · co-pay $25 for an office visit" and the card's older
co-pay beside it, takes the payer's co-pay onto the coverage and takes it in cash."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, open_drawer
from frontdesk.billing.models import LedgerEntry
from frontdesk.eligibility.models import (
    AppointmentTypeServices,
    EligibilityConnection,
    TransportKind,
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


def test_check_in_shows_the_payers_copay_and_the_officer_takes_it_in_cash(
    transactional_audit: None, personas: Personas, page: Page, payer_simulator: Simulator
) -> None:
    appointment = _nothing_outstanding(personas, copay=Decimal("20.00"))
    AppointmentTypeServices.objects.create(
        appointment_type=appointment.appointment_type, codes="98"
    )
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
    open_drawer(personas.front_desk)  # every payment goes into the officer's open drawer
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)
    page.get_by_role("button", name="Check in Ines").click()

    panel = page.locator("#eligibility-panel")
    expect(panel).to_contain_text("Not verified yet")
    panel.get_by_role("button", name="Verify now").click()

    expect(panel).to_contain_text("Verified today · active · co-pay $25 for an office visit")
    expect(panel).to_contain_text("payer simulator")
    expect(panel).to_contain_text("The card says a co-pay of $20.00; the payer says $25.00.")
    assert_accessible(page)
    panel.get_by_role("button", name="Use the payer's co-pay ($25.00)").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check in Duarte, Ines")
    expect(
        page.get_by_role("status").filter(has_text="The coverage's co-pay is now")
    ).to_contain_text("The coverage's co-pay is now $25.00.")
    payment = page.get_by_role("region", name="Take a payment")
    expect(payment).to_contain_text("Due now: $25.00 (co-pay $25.00).")
    expect(payment.get_by_label("Amount received")).to_have_value("25.00")
    payment.get_by_label("Paid by").select_option("cash")
    page.get_by_label("The patient confirmed their name and birth date as read back").check()
    page.get_by_role("button", name="Check in and issue ticket").click()

    expect(page).to_have_url(re.compile(r"/flow/$"))
    expect(page.get_by_role("status")).to_contain_text("Payment of $25.00 recorded")
    assert Coverage.objects.get(member_id="BH123").copay == Decimal("25.00")
    paid = LedgerEntry.objects.get(kind="payment")
    assert (paid.amount, paid.method) == (Decimal("25.00"), "cash")
