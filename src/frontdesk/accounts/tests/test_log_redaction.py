"""No log line holds a patient link's token, whichever logger writes it."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client

from frontdesk.lib.redaction import RedactSecretsFilter

TOKEN = "MQ:1xVTeK:y5iLjphmSECRETPART"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize("path", [f"/p/appointment/{TOKEN}/", f"/w/{TOKEN}/"])
def test_a_csrf_failure_on_a_patient_link_logs_no_token(
    caplog: pytest.LogCaptureFixture, path: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = Client(enforce_csrf_checks=True).post(path, {"action": "cancel"})
    assert response.status_code == 403
    csrf = [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]
    assert csrf and "<token>" in csrf[0]
    assert all("SECRETPART" not in line for line in _lines(caplog))


def test_a_server_error_on_a_patient_link_logs_no_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What Django's handler writes for a 500, and the development server for any request.
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.request").error("Internal Server Error: %s", f"/w/{TOKEN}/")
        logging.getLogger("django.server").warning('"GET /flow/display/?token=%s" 404', TOKEN)
    lines = _lines(caplog)
    assert "Internal Server Error: /w/<token>/" in lines
    assert '"GET /flow/display/?token=<token>" 404' in lines


def test_any_logger_writing_a_token_to_the_console_writes_a_placeholder() -> None:
    # The console handler carries the filter, for loggers not named in settings.LOGGING.
    (console,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    ]
    assert isinstance(console, logging.StreamHandler)
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        logging.getLogger("django.security.SuspiciousOperation").warning(
            "odd request to https://clinic.example/p/appointment/%s/", TOKEN
        )
    finally:
        console.setStream(previous)
    written = stream.getvalue()
    assert "/p/appointment/<token>/" in written and "SECRETPART" not in written
