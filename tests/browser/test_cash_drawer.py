"""The cash drawer in the browser: the officer opens a drawer, takes a co-pay in cash at
check-in, closes the drawer with a variance beyond the tolerance (a reason is asked for), and
the supervisor sees it on the day's drawers, reviews it and reads the deposit report."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from conftest import Personas, login_client
from frontdesk.billing.models import CashDrawer, DrawerCloseOut, EntryKind, LedgerEntry

from .helpers import assert_accessible, sign_in
from .test_flow import _nothing_outstanding

pytestmark = pytest.mark.browser


def test_a_cash_copay_then_a_short_drawer_reaches_the_supervisor(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    _nothing_outstanding(personas, copay=Decimal("25.00"))
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)

    # No drawer yet: the check-in page says how to open one.
    page.get_by_role("button", name="Check in Ines").click()
    payment = page.get_by_role("region", name="Take a payment")
    expect(payment).to_contain_text("You have no open cash drawer")
    expect(payment.get_by_role("link", name=re.compile("^Open your drawer"))).to_have_attribute(
        "href", "/billing/drawer/"
    )

    page.get_by_role("link", name="Cash drawer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My cash drawer")
    page.get_by_label("Location").select_option(label="Northside")
    page.get_by_label("Float counted").fill("12,50")
    page.get_by_role("button", name="Open the drawer").click()
    expect(page.get_by_text("Use a point for cents, like 12.50.")).to_be_visible()
    expect(page.get_by_label("Float counted")).to_have_value("12,50")
    assert_accessible(page)
    page.get_by_label("Float counted").fill("100.00")
    page.get_by_role("button", name="Open the drawer").click()
    expect(page.get_by_role("status")).to_contain_text("Drawer open at Northside")

    # The co-pay, in cash, with the check-in.
    page.goto("/flow/")
    page.get_by_role("button", name="Check in Ines").click()
    payment = page.get_by_role("region", name="Take a payment")
    expect(payment).not_to_contain_text("You have no open cash drawer")
    expect(payment.get_by_label("Amount received")).to_have_value("25.00")
    payment.get_by_label("Paid by").select_option("cash")
    page.get_by_label("The patient confirmed their name and birth date as read back").check()
    page.get_by_role("button", name="Check in and issue ticket").click()
    expect(page.get_by_role("status")).to_contain_text("Payment of $25.00 recorded")

    # The close-out: $125.00 expected, $110.00 counted.
    page.get_by_role("link", name="Cash drawer").click()
    expect(page.locator("[data-expected-cash]")).to_have_text("$125.00")
    page.get_by_label("$20.00 notes").fill("5")
    page.get_by_label("$1.00 notes").fill("10")
    page.get_by_role("button", name="Close the drawer").click()
    expect(page.get_by_role("alert").first).to_contain_text("$15.00 short")
    expect(page.get_by_label("$20.00 notes")).to_have_value("5")
    assert_accessible(page)
    page.get_by_label("Reason for the difference").fill("Gave change from a $20 twice")
    page.get_by_role("button", name="Close the drawer").click()
    expect(page.get_by_role("status")).to_contain_text("It is on the supervisor's desk queue")
    close_out = DrawerCloseOut.objects.get()
    assert close_out.variance == Decimal("-15.00") and close_out.beyond_tolerance
    cash = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert cash.method == "cash" and cash.drawer == CashDrawer.objects.get()

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
    page.goto("/")
    page.get_by_role("link", name="Drawers and deposits").click()
    row = page.get_by_role("row").filter(has_text="Northside")
    expect(row).to_contain_text("$15.00 short")
    expect(row).to_contain_text("Beyond tolerance: to review")
    assert_accessible(page)
    row.get_by_role("link", name="Alice").click()
    expect(page.locator("[data-variance]")).to_contain_text("$15.00 short")
    expect(page.get_by_text("Gave change from a $20 twice")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("What you found or did").fill("Recounted with Alice; agreed.")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("status")).to_contain_text("it has left the desk queue")

    page.get_by_role("link", name="All drawers that day").click()
    page.get_by_role("link", name="Deposit report").click()
    expect(page.get_by_role("heading", level=2, name="Northside")).to_be_visible()
    # Counted $110.00 less the $100.00 float that stays in the drawer.
    expect(page.locator("[data-cash-to-bank]")).to_have_text("$10.00")
    assert_accessible(page)
