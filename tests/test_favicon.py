"""No page leads a browser to a missing icon: every page links the shipped one, and a browser
that asks for /favicon.ico anyway is sent to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

import frontdesk

PACKAGE = Path(frontdesk.__file__).parent
# Emails are read in mail programs, which show no page icon.
EMAILS = ("_email.html",)
# Letters rendered to PDF (lib/pdf.py) are printed or downloaded, never shown as a page.
PDFS = (
    "billing/templates/billing/statement_pdf.html",
    "eligibility/templates/eligibility/estimate_pdf.html",
    "eligibility/templates/eligibility/good_faith_estimate.html",
    "letters/templates/letters/letter.html",
    "records/templates/records/accounting.html",
)


def _page_templates() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("templates/**/*.html")
        if "<html" in path.read_text()
        and not path.name.endswith(EMAILS)
        and not str(path.relative_to(PACKAGE)).endswith(PDFS)
    )


def test_it_finds_the_standalone_pages() -> None:
    names = {path.name for path in _page_templates()}
    assert {"base.html", "receipt.html", "visit_slip.html", "display.html", "500.html"} <= names


@pytest.mark.parametrize("path", _page_templates(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_page_template_links_the_shipped_icon(path: Path) -> None:
    assert 'rel="icon"' in path.read_text()
    assert "frontdesk/favicon.svg" in path.read_text()


def test_a_browser_asking_for_favicon_ico_is_sent_to_the_icon(db: None) -> None:
    client = Client()
    asked = client.get("/favicon.ico")
    assert asked.status_code == 301
    assert asked["Location"] == "/static/frontdesk/favicon.svg"
    icon = client.get(asked["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]
