"""The chart's header, the printed receipt and the supervisor's duplicates page, in the browser:
what a person sees and presses, and no serious accessibility findings."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import Personas, login_client, make_patient, open_drawer
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing import services
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.patients.tests.test_duplicates_report import bob_again, robert

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_the_desk_reads_the_header_books_and_prints_a_receipt(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")
    LedgerEntry.objects.create(
        clinic_id=personas.clinic.pk,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal("40.00"),
        description="Visit of last month",
        created_at=timezone.now() - dt.timedelta(days=30),
    )
    open_drawer(personas.front_desk)
    payment = services.account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("15.00"),
        method="cash",
        request_key=uuid.uuid4(),
    )
    page.goto(f"/accounts/login/?next=/patients/{patient.pk}/")
    sign_in(page, personas.front_desk)

    header = page.get_by_role("region", name="At a glance")
    expect(header).to_contain_text("Balance due $25.00")
    expect(header).to_contain_text("No visit booked")
    expect(header).to_contain_text("Address never confirmed")
    assert_accessible(page)

    page.goto(f"/billing/receipts/{payment.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Riverside Family Clinic: receipt")
    expect(page.get_by_text("Payment on account")).to_be_visible()
    assert_accessible(page)
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed === true")

    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("region", name="At a glance").get_by_role("link", name="Book").click()
    expect(page).to_have_url(re.compile(rf"/schedule/patients/{patient.pk}/find/"))


def test_a_supervisor_goes_from_the_duplicates_page_to_the_merge(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    original = robert(personas.clinic)
    again = bob_again(personas.clinic)
    # Two-step sign-in is walked elsewhere (test_sign_in.py); here the session is handed over.
    client = login_client(Client(), personas.supervisor)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": page.url if page.url.startswith("http") else _base(page),
            }
        ]
    )
    page.goto("/")
    page.get_by_role("link", name="Duplicates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Likely duplicate records")
    row = page.get_by_role("row").filter(has_text=original.mrn)
    expect(row).to_contain_text(again.mrn)
    assert_accessible(page)
    row.get_by_role("link", name=re.compile("^Compare and merge")).click()
    expect(page).to_have_url(re.compile(rf"/patients/merge/{original.pk}/{again.pk}/$"))


def _base(page: Page) -> str:
    page.goto("/accounts/login/")
    return page.url
