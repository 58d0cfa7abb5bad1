from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from frontdesk.lib.pdf import pdf_render, pdf_text


@pytest.fixture
def listener() -> Iterator[list[str]]:
    """A local web server that notes every path asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    asked.append(f"http://127.0.0.1:{server.server_port}")
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()


def test_a_pdf_reads_back_the_text_it_was_given() -> None:
    data = pdf_render("<h1>Dear Ms Rivera</h1><p>We are sorry you waited an hour.</p>")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Dear Ms Rivera" in text
    assert "We are sorry you waited an hour." in text


def test_rendering_fetches_nothing_a_document_names(listener: list[str]) -> None:
    base = listener[0]
    html = (
        f'<link rel="stylesheet" href="{base}/style.css">'
        f'<p>Letter</p><img src="{base}/logo.png" alt="">'
        '<img src="file:///etc/passwd" alt="">'
    )
    text = pdf_text(pdf_render(html))
    assert "Letter" in text
    assert "root:" not in text
    assert listener[1:] == []
