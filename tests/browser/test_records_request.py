"""A records request from a patient's lawyer: logged from the chart (refused first without the
signed authorisation, nothing typed lost), verified, gathered, sent with its cover letter, and
found in the patient's accounting of disclosures; both PDFs read back; every page checked with
axe."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.lib.pdf import pdf_text
from frontdesk.records.models import AuthorisationElement, Disclosure, RecordsRequest

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def _signed_form() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (850, 1100), "white").save(out, "PDF")
    return out.getvalue()


def _words(data: bytes) -> str:
    return " ".join(pdf_text(data).split())


def test_a_records_request_is_logged_sent_with_a_letter_and_accounted_for(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Ines", family_name="Duarte")

    page.goto(f"/accounts/login/?next=/patients/{patient.pk}/")
    sign_in(page, personas.front_desk)
    page.get_by_role("link", name="Log a request for records").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log a request for records")
    assert_accessible(page)
    page.get_by_label("Who is asking").select_option("third_party")
    page.get_by_label("Third party's name").fill("Dana Whitfield")
    page.get_by_label("Organisation").fill("Whitfield & Park LLP")
    page.get_by_label("Relationship to the patient").fill("Attorney")
    page.get_by_label("Visit notes").check()
    page.get_by_label("Records from").fill("2024-01-01")
    page.get_by_label("Records to").fill("2025-06-30")
    page.get_by_label("Send how").select_option("mail")
    page.get_by_label("Send to (address, email or fax)").fill("400 Main Street, Springfield")
    page.get_by_label("Purpose", exact=True).fill("Personal injury claim")
    page.get_by_role("button", name="Log the request").click()
    expect(page.get_by_text("Attach the signed authorisation form")).to_be_visible()
    expect(page.get_by_label("Third party's name")).to_have_value("Dana Whitfield")
    assert_accessible(page)

    for label in AuthorisationElement.labels:
        page.get_by_label(str(label)).check()
    page.get_by_label("Signed authorisation form").set_input_files(
        {"name": "authorisation.pdf", "mimeType": "application/pdf", "buffer": _signed_form()}
    )
    page.get_by_role("button", name="Log the request").click()
    expect(page.get_by_role("heading", level=2, name="Received")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Identity verified by").select_option("notarised")
    page.get_by_role("button", name="Identity verified").click()
    page.get_by_role("button", name="Start gathering the records").click()
    page.get_by_label("What was sent").fill("Visit notes 2024 to June 2025")
    page.get_by_label("Sent how").select_option("mail")
    page.get_by_label("Pages").fill("14")
    page.get_by_role("button", name="Records sent: print the cover letter").click()
    expect(page.get_by_role("heading", level=2, name="Sent")).to_be_visible()
    assert_accessible(page)

    request = RecordsRequest.objects.get()
    assert request.cover_letter_id is not None
    letter = page.request.get(f"/documents/{request.cover_letter_id}/content/")
    assert letter.ok
    assert "Visit notes 2024 to June 2025" in _words(letter.body())
    assert Disclosure.objects.get().request_id == request.pk

    page.get_by_role("link", name=re.compile("Duarte, Ines")).first.click()
    link = page.get_by_role("link", name="Accounting of disclosures (PDF)")
    with page.expect_download() as download:
        link.click()
    accounting = Path(download.value.path()).read_bytes()
    text = _words(accounting)
    assert "Accounting of disclosures" in text
    assert "Whitfield & Park LLP" in text
    assert "Personal injury claim" in text
