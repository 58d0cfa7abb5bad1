"""An upset patient's complaint in the browser: the officer logs it beside the playbook and
escalates it; a supervisor acknowledges it, writes the response, and the PDF letter exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from conftest import Personas, make_patient
from frontdesk.complaints.models import Complaint, ComplaintStatus
from frontdesk.lib.pdf import pdf_text
from frontdesk.supplies.models import SupplyItem

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

RESPONSE = "We have changed how the desk tells patients about delays."


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]  # the letter filed to the chart


def test_an_upset_patients_complaint_is_escalated_and_answered_with_a_letter(
    transactional_audit: None, personas: Personas, page: Page, browser: Browser
) -> None:
    patient = make_patient(personas.clinic, given_name="Adaeze", family_name="Okonkwo")
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    page.goto(f"/complaints/new/?patient={patient.pk}")
    expect(page.get_by_role("heading", name="Log a complaint")).to_be_visible()
    expect(page.get_by_text("Okonkwo, Adaeze")).to_be_visible()
    expect(page.locator('details[data-playbook="upset_patient"]')).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Log the complaint").click()  # nothing filled in yet
    expect(page.get_by_text("Write what happened.")).to_be_visible()
    assert_accessible(page)  # with the errors shown

    page.get_by_label("When it happened").fill("12/01/2026")
    page.get_by_label("What it is about").select_option("waiting")
    page.get_by_label("Severity").select_option("medium")
    page.get_by_role("textbox", name="What happened").fill(
        "Waited ninety minutes; nobody said why."
    )
    page.get_by_label("Nora (Nurse / medical assistant)").check()
    page.get_by_label("What the patient wants").fill("A written explanation.")
    page.get_by_label("No: escalate it").check()
    page.get_by_role("button", name="Log the complaint").click()
    expect(page.get_by_text("Complaint logged and escalated")).to_be_visible()
    assert_accessible(page)
    complaint = Complaint.objects.get()
    assert complaint.status == ComplaintStatus.AWAITING_ACKNOWLEDGEMENT

    device = TOTPDevice.objects.create(user=personas.supervisor, name="Phone", confirmed=True)
    context = browser.new_context(base_url=page.url.split("/complaints/")[0], locale="en-US")
    boss = context.new_page()
    boss.goto("/accounts/login/")
    sign_in(boss, personas.supervisor)
    boss.get_by_label("Code").fill(f"{TOTP(device.bin_key).token():06d}")
    boss.get_by_role("button", name="Continue").click()
    boss.get_by_role("link", name="Complaints", exact=True).click()
    expect(boss.get_by_role("heading", name="Complaints")).to_be_visible()
    assert_accessible(boss)
    boss.get_by_role("row").filter(has_text="Okonkwo").get_by_role("link").click()
    expect(boss.get_by_text("Waited ninety minutes; nobody said why.")).to_be_visible()
    assert_accessible(boss)
    boss.get_by_role("button", name="Acknowledged to the patient").click()
    expect(boss.get_by_text("Acknowledged. The written response is next.")).to_be_visible()

    boss.get_by_role("link", name="Write the response letter").click()
    boss.get_by_label("The response, as the letter will say it").fill(RESPONSE)
    assert_accessible(boss)
    boss.get_by_role("button", name="Save and make the letter").click()
    expect(boss.get_by_text("the letter is ready")).to_be_visible()
    with boss.expect_download() as download:
        boss.get_by_role("link", name="Download the response letter (PDF)").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = " ".join(pdf_text(data).split())
    assert RESPONSE in text
    assert "Dear Adaeze," in text  # the clinic's complaint-response letter template
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESPONDED

    boss.goto("/complaints/trends/")
    expect(boss.get_by_role("table", name="Complaints per month")).to_be_visible()
    expect(
        boss.get_by_role("img", name="Complaints per month by category", exact=False)
    ).to_be_visible()
    assert_accessible(boss)
    context.close()

    # The desk's supplies pages, with an item below par.
    SupplyItem.objects.create(
        clinic=personas.clinic,
        name="Printer paper",
        unit="ream",
        par_level=10,
        on_hand=3,
        created_at=timezone.now(),
    )
    page.goto("/supplies/")
    expect(page.get_by_text("· below par")).to_be_visible()
    expect(page.get_by_role("heading", name="Office supplies")).to_be_visible()
    assert_accessible(page)
    page.goto("/supplies/reorder/")
    expect(page.get_by_role("cell", name="7 ream")).to_be_visible()
    assert_accessible(page)
