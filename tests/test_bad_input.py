"""Arbitrary input to the sign-in form and the search box never produces a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Personas, login_client

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=300,
)
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(username=TEXT, password=TEXT, extra=st.dictionaries(TEXT, TEXT, max_size=3))
def test_the_sign_in_form_survives_any_input(
    personas: Personas, username: str, password: str, extra: dict[str, str]
) -> None:
    data = {**extra, "username": username, "password": password}
    response = Client().post("/accounts/login/", data)
    assert response.status_code in (200, 302, 400, 429)


@HYPOTHESIS
@given(query=TEXT)
def test_the_search_box_survives_any_input(personas: Personas, query: str) -> None:
    client = login_client(Client(), personas.front_desk)
    response = client.get("/patients/", {"q": query})
    assert response.status_code == 200
    htmx = client.get("/patients/", {"q": query}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200


@pytest.mark.parametrize("query", ["\x00", "9" * 200, "02/30/2020", "+", "%", "_", "'; drop"])
def test_awkward_searches_are_answered_not_crashed(personas: Personas, query: str) -> None:
    client = login_client(Client(), personas.front_desk)
    assert client.get("/patients/", {"q": query}).status_code == 200
