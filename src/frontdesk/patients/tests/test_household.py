"""Household links: made when a twin or parent is registered past the family note, shown on
the chart (a restricted member by MRN only), removed by the desk with a reason, kept
consistent through a merge and its undo, and never across clinics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.clinic.models import Clinic
from frontdesk.patients import services
from frontdesk.patients.merging import patient_merge, patient_unmerge
from frontdesk.patients.models import HouseholdLink, HouseholdLinkSource, Patient

URL = "/patients/register/"
HOME: dict[str, Any] = {
    "phone": "+14155550177",
    "address_line1": "9 Elm Rd",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94110",
}


def existing_maria(clinic: Clinic, **fields: Any) -> Patient:
    return make_patient(
        clinic,
        given_name="Maria",
        family_name="Fernandes",
        birth_date=dt.date(1984, 3, 7),
        sex="female",
        **{**HOME, **fields},
    )


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


def _context(user: User) -> AuditContext:
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test")


def _link(a: Patient, b: Patient, user: User | None = None) -> HouseholdLink:
    return HouseholdLink.objects.create(
        clinic_id=a.clinic_id,
        patient_low_id=min(a.pk, b.pk),
        patient_high_id=max(a.pk, b.pk),
        found_by=HouseholdLinkSource.BY_HAND,
        created_at=dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC),
        created_by=user,
    )


def _pairs() -> set[tuple[int, int]]:
    return set(HouseholdLink.objects.values_list("patient_low_id", "patient_high_id"))


@pytest.fixture
def desk(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.front_desk)


# ---------------------------------------------------------------------------------------------
# Made at registration


def test_a_twin_registered_past_the_family_note_is_linked_to_her_sister(
    desk: Client, personas: Personas
) -> None:
    maria = existing_maria(personas.clinic)

    response = desk.post(URL, {**_form(), "step": "confirm"})

    assert response.status_code == 302
    lucia = Patient.objects.get(given_name="Lucia")
    link = HouseholdLink.objects.get()
    assert (link.patient_low_id, link.patient_high_id) == (maria.pk, lucia.pk)
    assert link.found_by == HouseholdLinkSource.REGISTRATION
    assert link.created_by_id == personas.front_desk.pk
    assert link.clinic_id == personas.clinic.pk
    event = AuditEvent.objects.get(object_type="household_link")
    assert event.action == "create"
    assert sorted(event.patient_ids) == sorted([lucia.pk, maria.pk])
    assert event.detail["links"] == [{"id": link.pk, "member_mrn": maria.mrn}]


def test_no_link_is_made_when_there_was_no_household_note(desk: Client, personas: Personas) -> None:
    make_patient(personas.clinic, given_name="Maria", family_name="Okafor", phone="+12125550100")

    response = desk.post(URL, {**_form(), "step": "confirm"})

    assert response.status_code == 302
    assert not HouseholdLink.objects.exists()
    assert not AuditEvent.objects.filter(object_type="household_link").exists()


def test_a_registration_that_does_not_ask_for_links_makes_none(personas: Personas) -> None:
    existing_maria(personas.clinic)
    data = {"given_name": "Lucia", "family_name": "Fernandes", "sex": "female", **HOME}

    services.patient_register(
        context=_context(personas.front_desk),
        clinic=personas.clinic,
        data={**data, "birth_date": dt.date(1984, 3, 7)},
        warnings_need_reason=True,
    )

    assert not HouseholdLink.objects.exists()


def test_a_household_member_of_another_clinic_is_never_linked(
    desk: Client, personas: Personas
) -> None:
    existing_maria(personas.other_clinic)

    desk.post(URL, {**_form(), "step": "confirm"})

    assert Patient.objects.filter(given_name="Lucia", clinic=personas.clinic).exists()
    assert not HouseholdLink.objects.exists()


def test_the_pair_is_stored_once_smaller_id_first() -> None:
    constraints = {c.name for c in HouseholdLink._meta.constraints}
    assert {"household_link_pair_ordered", "household_link_unique_pair"} <= constraints


def test_the_database_refuses_a_pair_out_of_order_or_twice(personas: Personas) -> None:
    a = existing_maria(personas.clinic)
    b = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    _link(a, b)
    now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdLink.objects.create(
            clinic=personas.clinic,
            patient_low=b,
            patient_high=a,
            found_by=HouseholdLinkSource.BY_HAND,
            created_at=now,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        _link(a, b)


# ---------------------------------------------------------------------------------------------
# On the chart


def test_the_chart_shows_linked_members_with_their_charts(desk: Client, personas: Personas) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    _link(maria, lucia)

    html = desk.get(f"/patients/{lucia.pk}/").content.decode()

    assert '<h2 id="household-heading">Household</h2>' in html
    assert f'href="/patients/{maria.pk}/">Fernandes, Maria</a>' in html
    assert maria.mrn in html
    event = AuditEvent.objects.get(object_type="household")
    assert event.patient_ids == [maria.pk]
    assert event.detail["shown"] == [{"patient_id": maria.pk, "fields": ["Name", "MRN"]}]


def test_a_restricted_member_shows_by_mrn_only(desk: Client, personas: Personas) -> None:
    maria = existing_maria(personas.clinic, confidentiality="restricted")
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    _link(maria, lucia)

    html = desk.get(f"/patients/{lucia.pk}/").content.decode()

    assert maria.mrn in html
    assert "Maria" not in html
    assert "Restricted" in html
    event = AuditEvent.objects.get(object_type="household")
    assert event.detail["shown"] == [{"patient_id": maria.pk, "fields": ["MRN"]}]


def test_a_chart_without_links_has_no_household_panel(desk: Client, personas: Personas) -> None:
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")

    html = desk.get(f"/patients/{lucia.pk}/").content.decode()

    assert "household-heading" not in html
    assert not AuditEvent.objects.filter(object_type="household").exists()


# ---------------------------------------------------------------------------------------------
# Removed by hand


def test_the_desk_removes_a_wrong_link_with_a_reason_and_it_is_audited(
    desk: Client, personas: Personas
) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    link = _link(maria, lucia)
    url = f"/patients/{lucia.pk}/household/{link.pk}/remove/"

    page = desk.get(url)
    response = desk.post(url, {"reason": "Neighbours, not family"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{lucia.pk}/"
    assert not HouseholdLink.objects.exists()
    event = AuditEvent.objects.get(object_type="household_link", action="update")
    assert sorted(event.patient_ids) == sorted([maria.pk, lucia.pk])
    assert event.object_id == str(link.pk)
    assert event.detail["reason"] == "Neighbours, not family"
    assert event.detail["member_mrn"] == maria.mrn
    assert event.detail["removed"] is True


def test_a_link_is_not_removed_without_a_reason_and_what_was_typed_stays(
    desk: Client, personas: Personas
) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    link = _link(maria, lucia)
    url = f"/patients/{lucia.pk}/household/{link.pk}/remove/"

    empty = desk.post(url, {"reason": ""})
    short = desk.post(url, {"reason": "no"})

    assert empty.status_code == 400
    assert "Say why these two are not one household." in empty.content.decode()
    assert short.status_code == 400
    assert 'value="no"' in short.content.decode()
    assert HouseholdLink.objects.filter(pk=link.pk).exists()


def test_a_nurse_may_see_the_household_but_not_remove_a_link(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    link = _link(maria, lucia)
    nurse = client_for(personas.nurse)

    html = nurse.get(f"/patients/{lucia.pk}/").content.decode()
    response = nurse.post(f"/patients/{lucia.pk}/household/{link.pk}/remove/", {"reason": "wrong"})

    assert "Fernandes, Maria" in html
    assert "Unlink" not in html
    assert response.status_code == 403
    assert HouseholdLink.objects.filter(pk=link.pk).exists()


def test_another_clinics_officer_gets_not_found(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    link = _link(maria, lucia)
    outsider = client_for(personas.outsider)

    response = outsider.post(
        f"/patients/{lucia.pk}/household/{link.pk}/remove/", {"reason": "not family"}
    )

    assert response.status_code == 404
    assert HouseholdLink.objects.filter(pk=link.pk).exists()


def test_a_link_of_other_patients_is_not_found_from_this_chart(
    desk: Client, personas: Personas
) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    stranger = make_patient(personas.clinic, given_name="Ann", family_name="Lee")
    link = _link(maria, lucia)

    response = desk.post(
        f"/patients/{stranger.pk}/household/{link.pk}/remove/", {"reason": "not family"}
    )

    assert response.status_code == 404
    assert HouseholdLink.objects.filter(pk=link.pk).exists()


# ---------------------------------------------------------------------------------------------
# Merges


def test_a_merge_links_the_survivor_and_its_undo_restores_the_links_exactly(
    personas: Personas,
) -> None:
    maria = existing_maria(personas.clinic)
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    lucia_dupe = make_patient(personas.clinic, given_name="Luci", family_name="Fernandes")
    father = make_patient(personas.clinic, given_name="Jose", family_name="Fernandes")
    _link(maria, lucia)
    _link(maria, lucia_dupe)  # both records were linked to the sister
    _link(lucia_dupe, father)  # only the duplicate to the father
    _link(lucia, lucia_dupe)  # and to each other, before anyone saw they were one
    before = _pairs()
    user = personas.supervisor

    merge = patient_merge(
        context=_context(user),
        user=user,
        survivor=lucia,
        merged=lucia_dupe,
        take_from_merged=set(),
    )

    assert _pairs() == before | {(min(lucia.pk, father.pk), max(lucia.pk, father.pk))}
    made = HouseholdLink.objects.get(patient_low=lucia, patient_high=father)
    assert made.found_by == HouseholdLinkSource.BY_HAND
    assert merge.moved["patients.HouseholdLink:created"] == [[made.pk, None]]

    patient_unmerge(context=_context(user), user=user, merge=merge)

    assert _pairs() == before


def test_the_survivors_chart_shows_the_duplicates_household_not_the_duplicate(
    personas: Personas, desk: Client
) -> None:
    lucia = make_patient(personas.clinic, given_name="Lucia", family_name="Fernandes")
    lucia_dupe = make_patient(personas.clinic, given_name="Luci", family_name="Fernandes")
    father = make_patient(personas.clinic, given_name="Jose", family_name="Fernandes")
    _link(lucia, lucia_dupe)
    _link(lucia_dupe, father)
    user = personas.supervisor
    patient_merge(
        context=_context(user),
        user=user,
        survivor=lucia,
        merged=lucia_dupe,
        take_from_merged=set(),
    )

    html = desk.get(f"/patients/{lucia.pk}/").content.decode()
    father_html = desk.get(f"/patients/{father.pk}/").content.decode()

    assert "Fernandes, Jose" in html
    assert "Fernandes, Luci<" not in html
    assert "Fernandes, Lucia" in father_html
    assert "Fernandes, Luci<" not in father_html
