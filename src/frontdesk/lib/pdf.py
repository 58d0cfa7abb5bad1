"""The one PDF renderer: an HTML template in, PDF bytes out (WeasyPrint).

Letters, estimates and receipts are written as Django templates and printed here, so a PDF
looks like the page it comes from and tests can read its text back (`pdf_text`). Rendering
never fetches anything: a template's styles are inline in a `<style>` element, and any URL in
it (a stylesheet, a picture, a font) is refused, so a patient's words that reach a letter can
never make the server open a connection or read a local file.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any, NoReturn

from django.template.loader import render_to_string
from pypdf import PdfReader
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

# WeasyPrint logs each rendering step at INFO; one letter is not worth four log lines.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class _RefusingFetcher(URLFetcher):  # type: ignore[misc]
    """A URL fetcher that fetches nothing: every resource a document names is left out."""

    def fetch(self, url: str, headers: Any = None) -> NoReturn:
        raise ValueError(f"PDFs fetch nothing while rendering ({url[:40]})")


def pdf_render(html: str) -> bytes:
    """The PDF of an HTML document (a complete page, its style inline)."""
    # base_url is a fixed non-network URL so relative links resolve to something refusable.
    document = HTML(string=html, base_url="about:blank", url_fetcher=_RefusingFetcher())
    data: bytes = document.write_pdf()
    return data


def pdf_from_template(template_name: str, context: Mapping[str, Any]) -> bytes:
    """The PDF of a Django template rendered with `context`."""
    return pdf_render(render_to_string(template_name, dict(context)))


def pdf_text(data: bytes) -> str:
    """The text of a PDF, page after page (for tests and checks)."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
