"""Ids typed into URLs, query strings and forms go through one bounded parser."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import Personas, login_client, make_patient
from frontdesk.lib.ids import ID_MAX, parse_id

JUNK_IDS = ["", "0", "-1", "+1", " 1", "1 ", "1_000", "²", "١٢", "1.0", "9" * 19, "9" * 5000]


@pytest.mark.parametrize("value", JUNK_IDS)
def test_it_refuses_anything_but_a_plain_bounded_ascii_integer(value: str) -> None:
    assert parse_id(value) is None


def test_it_reads_plain_ids_up_to_the_largest_bigint() -> None:
    assert parse_id("1") == 1
    assert parse_id("007") == 7
    assert parse_id("9" * 18) == int("9" * 18)
    assert parse_id(ID_MAX) == ID_MAX
    assert parse_id(ID_MAX + 1) is None
    assert parse_id(True) is None


@pytest.mark.parametrize("junk", ["9" * 19, "9" * 5000, "%C2%B2", "0"])
def test_it_answers_404_for_an_id_in_a_url_that_is_no_id(personas: Personas, junk: str) -> None:
    client = login_client(Client(), personas.front_desk)
    assert client.get(f"/patients/{junk}/").status_code == 404
    assert client.get(f"/schedule/appointments/{junk}/").status_code == 404


@pytest.mark.parametrize("junk", ["9" * 5000, "²", str(2**63 + 1), "\x00"])
def test_it_ignores_junk_ids_in_query_parameters(personas: Personas, junk: str) -> None:
    patient = make_patient(personas.clinic)
    client = login_client(Client(), personas.front_desk)
    assert client.get("/schedule/", {"location": junk}).status_code == 200
    find = client.get(f"/schedule/patients/{patient.pk}/find/", {"appointment": junk})
    assert find.status_code == 200
    # No provider in this clinic yet: the week page says so.
    week = client.get("/schedule/week/", {"provider": junk, "type": junk})
    assert week.status_code in (200, 404)
    assert client.get("/flow/", {"location": junk, "provider": junk}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("junk", ["9" * 5000, str(2**63 + 1), "²", "-1"])
def test_it_refuses_junk_in_a_multi_select_without_echoing_it(junk: str) -> None:
    from django import forms

    from frontdesk.clinic.models import Provider
    from frontdesk.lib.ids import IdChoiceField, IdMultipleChoiceField

    several = IdMultipleChoiceField(queryset=Provider.objects.all(), required=False)
    with pytest.raises(forms.ValidationError) as refused:
        several.clean(["1", junk])
    assert junk not in str(refused.value)
    one = IdChoiceField(queryset=Provider.objects.all())
    with pytest.raises(forms.ValidationError):
        one.clean(junk)
