from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from django.test import Client

from conftest import Personas
from frontdesk.accounts.models import User


def test_pages_carry_a_strict_content_security_policy() -> None:
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_pages_refuse_framing_and_limit_the_referrer() -> None:
    response = Client().get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts_or_styles() -> None:
    html = Client().get("/accounts/login/").content.decode()
    assert "<script>" not in html and "style=" not in html and "<style" not in html


def test_cookies_are_secure_when_served_over_https(personas: Personas) -> None:
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.cookies["sessionid"]["secure"] is True


def test_cookies_are_not_marked_secure_on_plain_http(personas: Personas) -> None:
    response = Client().post(
        "/accounts/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert not response.cookies["sessionid"]["secure"]


def test_the_access_log_never_contains_search_terms(
    personas: Personas,
    client_for: Callable[[User], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="frontdesk.access"):
        client_for(personas.front_desk).get("/patients/", {"q": "Zebediah"})
    assert any("/patients/" in record.getMessage() for record in caplog.records)
    assert all("Zebediah" not in record.getMessage() for record in caplog.records)


def test_the_access_log_never_contains_a_patient_links_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "MQ:1xVTeK:y5iLjphmSECRETPART"
    with caplog.at_level(logging.INFO, logger="frontdesk.access"):
        Client().get(f"/w/{token}/")
        Client().get(f"/p/appointment/{token}/")
    lines = [record.getMessage() for record in caplog.records]
    assert any("/w/<token>/" in line for line in lines)
    assert any("/p/appointment/<token>/" in line for line in lines)
    assert all("SECRETPART" not in line for line in lines)


def test_static_assets_are_served_by_the_app_not_a_cdn() -> None:
    html = Client().get("/accounts/login/").content.decode()
    assert "/static/frontdesk/htmx-2.0.11.min.js" in html
    assert "https://" not in html.split("<body")[0]
    assert Client().get("/static/frontdesk/app.css").status_code == 200


def test_unknown_pages_get_a_friendly_404(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).get("/no/such/page/")
    assert response.status_code == 404
    assert b"Nothing here" in response.content
