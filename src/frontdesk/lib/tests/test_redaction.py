from __future__ import annotations

import logging
import sys

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from frontdesk.lib.redaction import PLACEHOLDER, RedactSecretsFilter, redact_secrets

TOKEN = "MQ:1xVTeK:y5iLjphmSECRETPART"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/p/appointment/{TOKEN}/", "/p/appointment/<token>/"),
        (
            f"Forbidden (CSRF cookie not set.): /w/{TOKEN}/",
            "Forbidden (CSRF cookie not set.): /w/<token>/",
        ),
        (f'"POST /w/{TOKEN}/?do=cancel HTTP/1.1" 403', '"POST /w/<token>/?do=cancel HTTP/1.1" 403'),
        (
            f"https://clinic.example/p/appointment/{TOKEN}/",
            "https://clinic.example/p/appointment/<token>/",
        ),
        (f"/flow/display/?token={TOKEN}", "/flow/display/?token=<token>"),
        (
            f"/schedule/calendar.ics?x=1&token={TOKEN}&y=2",
            "/schedule/calendar.ics?x=1&token=<token>&y=2",
        ),
        (
            f"/accounts/login/?next=/flow/display/%3Ftoken%3D{TOKEN}",
            "/accounts/login/?next=/flow/display/%3Ftoken%3D<token>",
        ),
        (
            "/patients/12/ /wait/ /w/ csrfmiddlewaretoken=abc",
            "/patients/12/ /wait/ /w/ csrfmiddlewaretoken=abc",
        ),
    ],
)
def test_it_replaces_every_signed_links_token_and_nothing_else(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected


def _routes(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found.extend(_routes(entry, namespace))
        elif entry.name:
            found.append((prefix + entry.name, entry))
    return found


def test_every_url_with_a_token_in_its_path_is_redacted() -> None:
    with_token = [
        name for name, entry in _routes(get_resolver()) if "token" in entry.pattern.converters
    ]
    assert {"waitlist_offer", "messaging:appointment"} <= set(with_token)
    for name in with_token:
        path = reverse(name, kwargs={"token": TOKEN})
        assert TOKEN not in redact_secrets(path), name


def test_the_filter_redacts_the_message_its_arguments_and_a_traceback() -> None:
    try:
        raise ValueError(f"cannot read /w/{TOKEN}/")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Internal Server Error: %s",
        (f"/w/{TOKEN}/",),
        exc_info,
    )
    assert RedactSecretsFilter().filter(record) is True
    assert record.getMessage() == f"Internal Server Error: /w/{PLACEHOLDER}/"
    assert record.exc_text is not None and "ValueError" in record.exc_text
    assert TOKEN not in logging.Formatter().format(record)
