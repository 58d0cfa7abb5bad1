"""Letters: a supervisor changes the confirmation letter (an unknown field refused by name, the
typed text kept, a preview), then the desk writes the letter from the patient's chart and the
PDF opens with the clinic's words in it; every page checked with axe."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from conftest import Personas, make_patient
from frontdesk.letters.models import LetterTemplate
from frontdesk.letters.tests.conftest import visit
from frontdesk.lib.pdf import pdf_text

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def test_a_supervisor_edits_a_letter_and_the_desk_prints_it_from_the_chart(
    transactional_audit: None, personas: Personas, page: Page, browser: Browser
) -> None:
    patient = make_patient(
        personas.clinic,
        given_name="Ines",
        family_name="Duarte",
        address_line1="9 Quay Street",
        city="Springfield",
        state="IL",
        postal_code="62701",
    )
    visit(personas, patient, timezone.now() + dt.timedelta(days=3))

    device = TOTPDevice.objects.create(user=personas.supervisor, name="Phone", confirmed=True)
    page.goto("/accounts/login/")
    sign_in(page, personas.supervisor)
    page.get_by_label("Code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("navigation", name="Main").get_by_text("Settings", exact=True).click()
    page.get_by_role("link", name="Letters", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Letters")
    assert_accessible(page)
    page.get_by_role("link", name="Change the letter Appointment confirmation").click()
    page.get_by_role("textbox", name=re.compile(r"^Letter")).fill(
        "Dear {patient_nickname},\n\nWe look forward to seeing you on {appointment_date}."
    )
    page.get_by_role("button", name="Save letter").click()
    expect(
        page.get_by_text("{patient_nickname} is not a field this letter can use")
    ).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile(r"^Letter"))).to_have_value(
        re.compile(r"^Dear \{patient_nickname\},")
    )
    assert_accessible(page)
    page.get_by_role("textbox", name=re.compile(r"^Letter")).fill(
        "Dear {patient_first_name},\n\nWe look forward to seeing you on {appointment_date} "
        "at {appointment_time}.\n\nThe Duarte test team"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Dear Maria,")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Save letter").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    assert LetterTemplate.objects.get().body.endswith("The Duarte test team")

    desk_context = browser.new_context(base_url=page.url.split("/letters/")[0], locale="en-US")
    desk = desk_context.new_page()
    desk.goto(f"/accounts/login/?next=/patients/{patient.pk}/")
    sign_in(desk, personas.front_desk)
    expect(desk.get_by_role("heading", name="Correspondence")).to_be_visible()
    desk.get_by_role("link", name="Write a letter").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Write a letter")
    assert_accessible(desk)
    desk.get_by_role("combobox", name=re.compile(r"^Letter")).select_option(
        "appointment_confirmation"
    )
    desk.get_by_role("combobox", name=re.compile(r"^The visit it is about")).select_option(index=1)
    desk.get_by_label("Print it").check()
    with desk.expect_response(re.compile(r"/documents/\d+/content/$")) as opened:
        desk.get_by_role("button", name="Write the letter").click()
    response = opened.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    # The browser shows the PDF in its viewer; its bytes are read back through the same session.
    text = " ".join(pdf_text(desk.request.get(response.url).body()).split())
    assert "Dear Ines," in text and "The Duarte test team" in text and "9 Quay Street" in text

    desk.goto(f"/patients/{patient.pk}/")
    expect(
        desk.get_by_role("link", name=re.compile("Appointment confirmation: Your appointment"))
    ).to_be_visible()
    assert_accessible(desk)
    desk_context.close()
