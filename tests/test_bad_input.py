"""Arbitrary input to the sign-in form and the search box never produces a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Personas, login_client, make_patient

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


REGISTRATION_TEXT_FIELDS = [
    "given_name",
    "middle_name",
    "family_name",
    "suffix",
    "preferred_name",
    "birth_date",
    "phone",
    "phone_alt",
    "email",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "preferred_language",
    "emergency_contact_name",
    "emergency_contact_phone",
    "guarantor_name",
    "guarantor_phone",
    "alert_note",
    "previous_family_name",
]
CHOICE_FIELDS = [
    "sex",
    "phone_kind",
    "country",
    "preferred_contact",
    "guarantor_relationship",
    "confidentiality",
    "step",
]
PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=60
)


@HYPOTHESIS
@given(
    texts=st.fixed_dictionaries({}, optional=dict.fromkeys(REGISTRATION_TEXT_FIELDS, TEXT)),
    choices=st.fixed_dictionaries({}, optional=dict.fromkeys(CHOICE_FIELDS, TEXT)),
)
def test_the_registration_form_survives_any_input(
    personas: Personas, texts: dict[str, str], choices: dict[str, str]
) -> None:
    client = login_client(Client(), personas.front_desk)
    response = client.post("/patients/register/", {**texts, **choices})
    assert response.status_code in (200, 302, 400, 409)


@HYPOTHESIS
@given(value=PRINTABLE)
def test_a_refused_registration_keeps_what_was_typed(personas: Personas, value: str) -> None:
    from django.utils.html import escape

    client = login_client(Client(), personas.front_desk)
    data = {
        "given_name": "Ann",
        "family_name": value,
        "birth_date": "not a date",
        "address_line1": value,
        "step": "review",
    }
    response = client.post("/patients/register/", data)
    assert response.status_code == 400
    html = response.content.decode()
    kept = " ".join(value.split())
    if kept:
        assert escape(kept) in html or escape(value) in html


@HYPOTHESIS
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "rank",
                "payer",
                "plan_name",
                "member_id",
                "group_number",
                "subscriber_name",
                "relationship",
                "subscriber_birth_date",
                "effective_date",
                "end_date",
            ]
        ),
        TEXT,
    )
)
def test_the_insurance_form_survives_any_input(personas: Personas, data: dict[str, str]) -> None:
    from conftest import make_patient

    patient = make_patient(personas.clinic)
    client = login_client(Client(), personas.front_desk)
    response = client.post(f"/patients/{patient.pk}/coverages/new/", data)
    assert response.status_code in (302, 400)


@HYPOTHESIS
@given(name=TEXT, pattern=TEXT, example=TEXT, reason=TEXT, mrn=TEXT)
def test_the_payer_break_glass_and_merge_forms_survive_any_input(
    personas: Personas, name: str, pattern: str, example: str, reason: str, mrn: str
) -> None:
    from conftest import make_patient

    admin = login_client(Client(), personas.admin)
    response = admin.post(
        "/patients/payers/new/",
        {"name": name, "member_id_pattern": pattern, "member_id_example": example},
    )
    assert response.status_code in (302, 400)
    patient = make_patient(personas.clinic, confidentiality="restricted")
    desk = login_client(Client(), personas.front_desk)
    glass = desk.post(f"/patients/{patient.pk}/break-glass/", {"reason": reason, "next": reason})
    assert glass.status_code in (302, 400)
    supervisor = login_client(Client(), personas.supervisor)
    supervisor.post(f"/patients/{patient.pk}/break-glass/", {"reason": "supervisor review here"})
    merge = supervisor.get(f"/patients/{patient.pk}/merge/", {"mrn": mrn})
    assert merge.status_code in (200, 302, 400)


@HYPOTHESIS
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "appointment_type",
                "provider",
                "location",
                "date_from",
                "weekdays",
                "time_of_day",
                "appointment",
                "date",
            ]
        ),
        TEXT,
    ),
    post=st.dictionaries(
        st.sampled_from(
            [
                "schedule",
                "appointment_type",
                "start",
                "overbook_reason",
                "confirm_overlap",
                "cancelled_by",
                "reason",
            ]
        ),
        TEXT,
    ),
    action=st.sampled_from(["confirm", "cancel", "no-show", "move", "other"]),
)
def test_the_scheduling_pages_survive_any_input(
    personas: Personas, params: dict[str, str], post: dict[str, str], action: str
) -> None:
    from conftest import make_patient

    patient = make_patient(personas.clinic)
    client = login_client(Client(), personas.front_desk)
    assert client.get("/schedule/", params).status_code == 200
    assert client.get(f"/schedule/patients/{patient.pk}/find/", params).status_code in (
        200,
        400,
        404,
    )
    assert client.post(f"/schedule/patients/{patient.pk}/book/", post).status_code in (
        302,
        404,
        409,
    )
    assert client.post(f"/schedule/appointments/1/{action}/", post).status_code in (302, 400, 404)


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_it_refuses_an_overlong_username_at_sign_in_in_words(
    personas: Personas, length: int
) -> None:
    response = Client().post("/accounts/login/", {"username": "a" * length, "password": "x"})
    assert response.status_code == 400
    assert "A username is at most 150 characters" in response.content.decode()


def test_it_strips_nul_bytes_from_every_query_form_and_cookie_value(personas: Personas) -> None:
    patient = make_patient(personas.clinic, family_name="Nulling")
    client = login_client(Client(), personas.front_desk)
    found = client.get("/patients/", {"q": "Null\x00ing"})
    assert found.status_code == 200
    assert f"/patients/{patient.pk}/" in found.content.decode()
    posted = client.post(
        f"/patients/{patient.pk}/break-glass/", {"reason": "\x00" * 3, "next\x00": "\x00"}
    )
    assert posted.status_code in (302, 400)
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/patients/").status_code == 302  # as if no session had been sent
