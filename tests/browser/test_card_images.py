"""No script runs from an insurance card file: not from one uploaded through the form today, nor
from the files the review planted before uploads were checked, opened as a page or loaded as a
script by a page of the same origin. Each file's script would set the page title, set
`window.pwned` and request `/pwned-…`; none of that happens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FilePayload, Page, expect

from conftest import Personas, make_patient
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.patients.tests.card_files import (
    HTML_PAGE,
    JPEG_SCRIPT,
    PDF_HTML,
    SVG_SCRIPT,
    jpeg_with_page,
    pdf_with_page,
)

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

SANDBOX = "sandbox; default-src 'none'"
# Files as the review stored them, named as uploaded: each a script or a page passing for a card.
PLANTED = {
    "js": JPEG_SCRIPT,
    "mjs": JPEG_SCRIPT,
    "html": PDF_HTML,
    "htm": HTML_PAGE,
    "xhtml": HTML_PAGE,
    "svg": SVG_SCRIPT,
    "css": JPEG_SCRIPT,
}


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def _upload(name: str, content: bytes) -> FilePayload:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": content}


def _fill_coverage(page: Page, payer: Payer, front: FilePayload, back: FilePayload) -> None:
    page.get_by_label("Payer").select_option(label=payer.name)
    page.get_by_label("Member ID").fill("M1")
    page.get_by_label("Patient is the subscriber's").select_option("self")
    page.get_by_label("Card, front").set_input_files(front)
    page.get_by_label("Card, back").set_input_files(back)
    page.get_by_role("button", name="Save insurance").click()


def _planted_card_urls(patient: Patient, payer: Payer) -> list[str]:
    """Coverages referring to the files as they were stored before the fix."""
    urls = []
    for rank, (extension, content) in enumerate(PLANTED.items(), start=2):
        name = default_storage.save(f"cards/planted.{extension}", ContentFile(content))
        coverage = Coverage.objects.create(
            patient=patient, payer=payer, rank=rank, member_id=f"P{rank}", card_front=name
        )
        urls.append(f"/patients/{patient.pk}/coverages/{coverage.pk}/card/front/")
    return urls


def _open(page: Page, url: str) -> None:
    """Open a card as a person would by its link: a picture is shown, anything else downloaded."""
    try:
        page.goto(url)
    except PlaywrightError as error:
        assert "Download is starting" in error.message, error.message
        return
    # Shown: the sandbox gave the document an opaque origin, where no script may run.
    assert page.evaluate("window.origin") == "null"


def test_no_script_runs_from_any_card_file_uploaded_or_stored(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic)
    payer = Payer.objects.create(clinic=personas.clinic, name="Blue Harbor Health")
    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    titles: list[str] = []
    page.on("load", lambda loaded: titles.append(loaded.title()))

    page.goto(f"/patients/{patient.pk}/coverages/new/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name=re.compile("Add insurance"))).to_be_visible()
    _fill_coverage(page, payer, _upload("card.js", JPEG_SCRIPT), _upload("card.svg", SVG_SCRIPT))
    expect(page.get_by_text("The picture could not be opened")).to_be_visible()
    expect(page.get_by_text("Upload the card as a JPEG, PNG or PDF")).to_be_visible()
    assert_accessible(page)
    _fill_coverage(page, payer, _upload("card.jpg", HTML_PAGE), _upload("card.html", PDF_HTML))
    expect(page.get_by_text("The PDF could not be opened")).to_be_visible()
    assert not Coverage.objects.exists()

    # A picture and a PDF each carrying a page do pass: only their pixels, or a download, remain.
    _fill_coverage(
        page, payer, _upload("card.html", jpeg_with_page()), _upload("card.js", pdf_with_page())
    )
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    uploaded = Coverage.objects.get()
    urls = [
        f"/patients/{patient.pk}/coverages/{uploaded.pk}/card/{side}/" for side in ("front", "back")
    ]
    urls += _planted_card_urls(patient, payer)

    for url in urls:
        headers = page.request.get(url).headers
        assert headers["content-security-policy"] == SANDBOX, url
        assert headers["x-content-type-options"] == "nosniff", url
        assert headers["cross-origin-resource-policy"] == "same-origin", url
        assert not headers["content-type"].startswith(("text/", "image/svg")), url
        _open(page, url)

    # A page of this origin, as the review's uploaded page was, loading every file as a script.
    page.route(
        re.compile(r"/attacker-page/$"),
        lambda route: route.fulfill(
            content_type="text/html",
            body="<!doctype html><title>Attacker</title>"
            + "".join(f'<script src="{url}"></script>' for url in urls),
        ),
    )
    page.goto("/attacker-page/")  # waits for the load event: every script fetched by then
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.title() == "Attacker"

    assert "PWNED" not in titles
    assert not [url for url in requested if "/pwned" in url]
