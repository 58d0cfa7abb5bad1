"""The CSRF cookie is out of script's reach; pages carry the token that htmx and fetch send."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client

from conftest import Personas, login_client
from frontdesk.patients.models import Patient

PACKAGE = Path(__file__).resolve().parents[2]


def test_it_sets_the_csrf_cookie_http_only() -> None:
    response = Client().get("/accounts/login/")
    assert response.cookies["csrftoken"]["httponly"] is True


def test_an_htmx_post_with_the_token_the_page_carries_is_accepted(
    personas: Personas, patient: Patient
) -> None:
    client = login_client(Client(enforce_csrf_checks=True), personas.front_desk)
    html = client.get("/patients/", {"q": "Smith"}).content.decode()
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match is not None
    url = f"/patients/{patient.pk}/reveal/phone/"
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    answer = client.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=match.group(1))
    assert answer.status_code == 200


def test_no_script_of_ours_reads_cookies() -> None:
    scripts = [p for p in PACKAGE.glob("**/static/**/*.js") if ".min." not in p.name]
    assert scripts
    assert [p.name for p in scripts if "document.cookie" in p.read_text()] == []
