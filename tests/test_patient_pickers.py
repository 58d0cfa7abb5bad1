"""Every page that finds a patient to act on (the search, a call, a request for records, a
referral, a free time on the week) shows what tells two patients of the same name apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.lib.masking import age_on

pytestmark = pytest.mark.django_db

PICKERS = ["/patients/", "/inquiries/calls/new/", "/records/new/", "/referrals/new/"]


@pytest.mark.parametrize("path", PICKERS)
def test_two_patients_of_the_same_name_are_told_apart_by_birth_year_age_and_phone(
    path: str, personas: Personas, client_for: Callable[[User], Client]
) -> None:
    older = make_patient(
        personas.clinic,
        given_name="Christopher",
        family_name="Hernandez",
        birth_date=dt.date(1961, 3, 4),
        phone="+12025550101",
    )
    younger = make_patient(
        personas.clinic,
        given_name="Christopher",
        family_name="Hernandez",
        birth_date=dt.date(1990, 7, 8),
        phone="+12025550199",
    )
    hidden = make_patient(
        personas.clinic,
        given_name="Christopher",
        family_name="Hernandez",
        birth_date=dt.date(1975, 5, 6),
        confidentiality="restricted",
    )
    page = client_for(personas.front_desk).get(path, {"q": "Hernandez"})
    assert page.status_code == 200
    html = page.content.decode()
    today = timezone.localdate()
    for patient, year, last_four in ((older, 1961, "0101"), (younger, 1990, "0199")):
        assert f"••/••/{year}" in html
        assert f"<td>{age_on(patient.birth_date, today)}</td>" in html
        assert f"<code>{patient.mrn}</code>" in html
        assert f"••• ••• {last_four}" in html
    # A restricted record: its MRN, nothing of its birth date.
    assert f"<code>{hidden.mrn}</code>" in html
    assert "1975" not in html
    assert "3 shown." in html
