"""The registration-time check on the database: blocking that finds what the scorer would,
household members apart from warnings, the clinic's own term frequencies, bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.clinic.models import Clinic
from frontdesk.patients import services
from frontdesk.patients.duplicates import (
    duplicate_check,
    value_frequencies,
    year_typo_dates,
)
from frontdesk.patients.matching.records import PersonRecord
from frontdesk.patients.matching.verdict import EXISTING_PATIENT_THRESHOLD
from frontdesk.patients.models import Patient

URL = "/patients/register/"

HOME: dict[str, Any] = {
    "phone": "+14155550177",
    "address_line1": "9 Elm Rd",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94110",
}


def existing_maria(clinic: Clinic) -> Patient:
    return make_patient(
        clinic,
        given_name="Maria",
        family_name="Fernandes",
        birth_date=dt.date(1984, 3, 7),
        sex="female",
        **HOME,
    )


def found(clinic: Clinic, record: PersonRecord) -> set[int]:
    return {c.patient.pk for c in duplicate_check(clinic_id=clinic.pk, record=record).candidates}


# ---------------------------------------------------------------------------------------------
# Blocking


def test_year_typo_dates_are_every_one_keystroke_year_on_the_same_day() -> None:
    dates = year_typo_dates(dt.date(1984, 3, 7))

    assert dt.date(1994, 3, 7) in dates  # one digit
    assert dt.date(1948, 3, 7) in dates  # neighbours swapped
    assert dt.date(1894, 3, 7) in dates
    assert dt.date(1984, 3, 7) not in dates
    assert all((d.month, d.day) == (3, 7) for d in dates)


def test_year_typo_dates_of_29_february_skip_years_without_one() -> None:
    dates = year_typo_dates(dt.date(1984, 2, 29))

    assert dt.date(1988, 2, 29) in dates
    assert all(d.year % 4 == 0 for d in dates)


@pytest.mark.parametrize("typed_year", [1994, 1948, 1983])
def test_it_finds_a_birth_year_typo_with_a_new_phone_and_a_move(
    personas: Personas, typed_year: int
) -> None:
    maria = existing_maria(personas.clinic)
    record = PersonRecord(
        "Maria",
        "Fernandes",
        dt.date(typed_year, 3, 7),
        sex="female",
        phone="+16505550100",
        address_line1="4 Pine Ct",
        city="Fresno",
        postal_code="93650",
    )

    assert maria.pk in found(personas.clinic, record)


def test_it_finds_a_married_name_with_the_same_given_name_and_birth_date(
    personas: Personas,
) -> None:
    maria = existing_maria(personas.clinic)
    record = PersonRecord("Maria", "Costa", dt.date(1984, 3, 7), sex="female", **HOME)

    check = duplicate_check(clinic_id=personas.clinic.pk, record=record)

    assert [c.patient.pk for c in check.candidates] == [maria.pk]
    assert check.candidates[0].result.score >= EXISTING_PATIENT_THRESHOLD


def test_it_finds_a_married_name_with_a_year_typo(personas: Personas) -> None:
    maria = existing_maria(personas.clinic)
    record = PersonRecord("Maria", "Costa", dt.date(1985, 3, 7), sex="female", **HOME)

    assert maria.pk in found(personas.clinic, record)


def test_it_finds_names_swapped_between_given_and_family(personas: Personas) -> None:
    maria = existing_maria(personas.clinic)
    record = PersonRecord(
        "Fernandes", "Maria", dt.date(1984, 3, 7), sex="female", phone="+16505550100"
    )

    check = duplicate_check(clinic_id=personas.clinic.pk, record=record)

    assert [c.patient.pk for c in check.candidates] == [maria.pk]
    assert "given and family names transposed" in check.candidates[0].result.reasons


def test_it_finds_swapped_names_with_a_year_typo_and_no_contact_details(
    personas: Personas,
) -> None:
    maria = existing_maria(personas.clinic)
    record = PersonRecord("Fernandes", "Maria", dt.date(1984, 7, 3))  # day and month too

    assert maria.pk in found(personas.clinic, record)


# ---------------------------------------------------------------------------------------------
# Household members


def test_a_twin_is_a_household_member_not_a_candidate(personas: Personas) -> None:
    maria = existing_maria(personas.clinic)
    twin = PersonRecord("Lucia", "Fernandes", dt.date(1984, 3, 7), sex="female", **HOME)

    check = duplicate_check(clinic_id=personas.clinic.pk, record=twin)

    assert check.candidates == []
    assert [c.patient.pk for c in check.household] == [maria.pk]
    assert any("twin" in r for r in check.household[0].result.reasons)


def test_a_jr_at_the_fathers_home_is_a_household_member(personas: Personas) -> None:
    father = make_patient(
        personas.clinic,
        given_name="Marcus",
        family_name="Bellamy",
        suffix="Sr",
        birth_date=dt.date(1958, 4, 12),
        sex="male",
        **HOME,
    )
    son = PersonRecord("Marcus", "Bellamy", dt.date(1958, 4, 12), sex="male", suffix="Jr", **HOME)

    check = duplicate_check(clinic_id=personas.clinic.pk, record=son)

    assert father.pk not in {c.patient.pk for c in check.candidates}
    assert father.pk in {c.patient.pk for c in check.household}


def test_a_twin_is_registered_without_a_reason(personas: Personas) -> None:
    existing_maria(personas.clinic)
    user = personas.front_desk
    data = {
        "given_name": "Lucia",
        "family_name": "Fernandes",
        "birth_date": dt.date(1984, 3, 7),
        "sex": "female",
        **HOME,
    }

    patient = services.patient_register(
        context=AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test"),
        clinic=personas.clinic,
        data=data,
        warnings_need_reason=True,
    )

    assert patient.given_name == "Lucia"


@pytest.fixture
def desk(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.front_desk)


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Lucia",
        "family_name": "Fernandes",
        "birth_date": "03/07/1984",
        "sex": "female",
        "phone": "(415) 555-0177",
        "phone_kind": "mobile",
        "address_line1": "9 Elm Rd",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94110",
        "country": "US",
        "preferred_contact": "phone",
        "guarantor_relationship": "self",
        "confidentiality": "normal",
    }
    data.update(overrides)
    return data


def test_the_read_back_shows_a_twin_as_a_family_note_not_a_warning(
    desk: Client, personas: Personas
) -> None:
    maria = existing_maria(personas.clinic)

    html = desk.post(URL, {**_form(), "step": "review"}).content.decode()

    assert "Family member at the same address" in html
    assert maria.mrn in html
    assert "This looks like a patient we already have" not in html
    assert "Possible existing patient" not in html
    assert "Everything is right: register" in html
    event = AuditEvent.objects.get(object_type="duplicate_check")
    assert event.patient_ids == [maria.pk]
    assert event.detail["shown"] == [
        {"patient_id": maria.pk, "fields": ["Name", "MRN"], "household": True}
    ]


def test_a_twin_is_saved_from_the_page_without_an_override(
    desk: Client, personas: Personas
) -> None:
    existing_maria(personas.clinic)

    response = desk.post(URL, {**_form(), "step": "confirm"})

    assert response.status_code == 302
    assert Patient.objects.filter(given_name="Lucia").exists()


# ---------------------------------------------------------------------------------------------
# Term frequencies from the clinic's own index


def test_value_frequencies_count_this_clinics_records_only(personas: Personas) -> None:
    for _ in range(3):
        make_patient(personas.clinic, given_name="Maria", family_name="Garcia", postal_code="94110")
    make_patient(
        personas.other_clinic, given_name="Maria", family_name="Garcia", postal_code="94110"
    )
    record = PersonRecord("María", "García", dt.date(1980, 1, 2), postal_code="94110")

    counts = value_frequencies(clinic_id=personas.clinic.pk, record=record)

    assert counts.given == {"maria": 3}
    assert counts.family == {"garcia": 3}
    assert counts.birth_date == {"19800102": 3}  # make_patient's birth date
    assert counts.postcode == {"94110": 3}
    assert counts.index_size == Patient.objects.filter(clinic=personas.clinic).count()


# ---------------------------------------------------------------------------------------------
# Bad input never stops a registration


@pytest.mark.parametrize(
    ("given_name", "family_name", "birth_date"),
    [
        ("Иван", "Петров", dt.date(1984, 3, 7)),
        ("J", "F", dt.date(1984, 3, 7)),
        ("M" * 200, "F" * 200, dt.date(1984, 3, 7)),
        ("", "Fernandes", dt.date(1984, 3, 7)),
        ("Maria", "Fernandes", dt.date(1984, 2, 29)),
        ("", "", None),
    ],
)
def test_the_check_scores_bad_input_without_error(
    personas: Personas, given_name: str, family_name: str, birth_date: dt.date | None
) -> None:
    existing_maria(personas.clinic)
    make_patient(
        personas.clinic, given_name="Иван", family_name="Петров", birth_date=dt.date(1984, 2, 29)
    )
    record = PersonRecord(given_name, family_name, birth_date, phone="+14155550177")

    check = duplicate_check(clinic_id=personas.clinic.pk, record=record)

    assert all(c.result.score == c.result.score for c in check.candidates)  # never NaN
