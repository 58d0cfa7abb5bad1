"""Behind an HTTPS proxy: a redirect from plain HTTP and HSTS. Pages are never cached."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings

import frontdesk.settings as settings_module
from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.clinic.models import Provider
from frontdesk.scheduling.calendar_feed import feed_token

HTTPS = {"x-forwarded-proto": "https"}
_SETTINGS_NAMES = (
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
)


def _settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The HTTPS settings settings.py makes from this environment."""
    for name in ("BEHIND_HTTPS_PROXY", "HSTS_SECONDS", "HSTS_INCLUDE_SUBDOMAINS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    made = runpy.run_path(settings_module.__file__)
    return {name: made[name] for name in _SETTINGS_NAMES if name in made}


def test_behind_an_https_proxy_it_redirects_and_sends_hsts_for_a_year_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _settings_with(monkeypatch, BEHIND_HTTPS_PROXY="true")
    assert made["SECURE_SSL_REDIRECT"] is True
    assert made["SECURE_HSTS_SECONDS"] == 31_536_000
    assert made["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    with override_settings(**made):
        plain = Client().get("/accounts/login/?next=/flow/")
        secure = Client().get("/accounts/login/", headers=HTTPS)
        health = Client().get("/healthz")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/?next=/flow/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # Load balancers call the health check over plain HTTP inside the network.
    assert health.status_code == 200


def test_hsts_length_and_subdomains_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _settings_with(
        monkeypatch,
        BEHIND_HTTPS_PROXY="true",
        HSTS_SECONDS="600",
        HSTS_INCLUDE_SUBDOMAINS="false",
    )
    with override_settings(**made):
        secure = Client().get("/accounts/login/", headers=HTTPS)
    assert secure["Strict-Transport-Security"] == "max-age=600"


def test_without_a_proxy_it_neither_redirects_nor_sends_hsts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _settings_with(monkeypatch) == {}
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert not response.has_header("Strict-Transport-Security")


def test_signed_in_pages_are_never_cached(
    personas: Personas, client_for: Callable[[User], Client], patient: Any
) -> None:
    client = client_for(personas.front_desk)
    for url in ("/", f"/patients/{patient.pk}/", "/patients/?q=Smith", "/no/such/page/"):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_static_files_keep_their_cache_and_views_keep_their_own_choice(
    personas: Personas,
) -> None:
    static = Client().get("/static/frontdesk/app.css")
    assert "no-store" not in static.get("Cache-Control", "")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ada", family_name="Okafor", specialty="Family"
    )
    feed = Client().get("/schedule/calendar.ics", {"token": feed_token(provider)})
    assert feed.status_code == 200
    assert feed["Cache-Control"] == "private, max-age=300"
