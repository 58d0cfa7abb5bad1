from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.selectors import audit_events_for_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.patients.merging import MergeRefusedError, patient_merge, patient_unmerge
from frontdesk.patients.models import Coverage, Patient, PatientAlias, PatientMerge, Payer
from frontdesk.patients.selectors import patient_search


@pytest.fixture
def pair(personas: Personas) -> tuple[Patient, Patient]:
    payer = Payer.objects.create(clinic=personas.clinic, name="Acme Health")
    keep = make_patient(
        personas.clinic,
        given_name="Robert",
        family_name="Johnson",
        phone="+14155550177",
        email="",
        birth_date=dt.date(1972, 4, 9),
    )
    dupe = make_patient(
        personas.clinic,
        given_name="Bob",
        family_name="Jonhson",
        phone="+14155550199",
        email="bob@example.org",
        birth_date=dt.date(1972, 4, 9),
    )
    Coverage.objects.create(patient=keep, payer=payer, rank=1, member_id="K1")
    Coverage.objects.create(patient=dupe, payer=payer, rank=1, member_id="D1")
    PatientAlias.objects.create(patient=dupe, family_name="Smith")
    return keep, dupe


def test_the_compare_page_shows_both_records_side_by_side(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair
    client = client_for(personas.supervisor)
    start = client.get(f"/patients/{keep.pk}/merge/", {"mrn": dupe.mrn})
    assert start["Location"] == f"/patients/merge/{keep.pk}/{dupe.pk}/"
    html = client.get(start["Location"]).content.decode()
    assert "Robert" in html and "Bob" in html and "bob@example.org" in html
    assert AuditEvent.objects.filter(
        object_type="merge_comparison", patient_ids=sorted([keep.pk, dupe.pk])
    ).exists()


def test_merging_moves_every_linked_record_and_keeps_chosen_values(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair
    client = client_for(personas.supervisor)
    response = client.post(
        f"/patients/merge/{keep.pk}/{dupe.pk}/",
        {"take:Email": "merged", "take:Main phone": "survivor", "reason": "same licence"},
    )
    assert response["Location"] == f"/patients/{keep.pk}/"
    keep.refresh_from_db()
    dupe.refresh_from_db()
    assert keep.email == "bob@example.org" and keep.phone == "+14155550177"
    assert not dupe.is_active and dupe.merged_into == keep
    assert sorted(keep.coverages.values_list("member_id", "rank")) == [("D1", 2), ("K1", 1)]
    assert keep.aliases.get().family_name == "Smith"
    event = AuditEvent.objects.get(action=AuditAction.MERGE)
    assert event.patient_ids == sorted([keep.pk, dupe.pk])
    assert event.detail["reason"] == "same licence"
    # Search finds only the survivor; the old record's link opens the survivor.
    _, results = patient_search(personas.front_desk, "johnson")
    assert results == [keep]
    chart = client_for(personas.front_desk).get(f"/patients/{dupe.pk}/").content.decode()
    assert keep.mrn in chart and "was merged" in chart


def test_unmerge_restores_both_records_exactly(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair
    before = {p.pk: (p.email, p.phone, p.family_name) for p in (keep, dupe)}
    client = client_for(personas.supervisor)
    client.post(f"/patients/merge/{keep.pk}/{dupe.pk}/", {"take:Email": "merged"})
    merge = PatientMerge.objects.get()
    response = client.post(f"/patients/merges/{merge.pk}/undo/")
    assert response["Location"] == f"/patients/{dupe.pk}/"
    keep.refresh_from_db()
    dupe.refresh_from_db()
    assert {p.pk: (p.email, p.phone, p.family_name) for p in (keep, dupe)} == before
    assert dupe.is_active and dupe.merged_into is None
    assert list(dupe.coverages.values_list("member_id", "rank")) == [("D1", 1)]
    assert list(keep.coverages.values_list("member_id", "rank")) == [("K1", 1)]
    assert dupe.aliases.get().family_name == "Smith"
    assert AuditEvent.objects.filter(action=AuditAction.UNMERGE).count() == 1
    again = client.post(f"/patients/merges/{merge.pk}/undo/", follow=True)
    assert "already undone" in again.content.decode()


def test_a_record_merged_earlier_follows_to_the_new_survivor(
    personas: Personas, pair: tuple[Patient, Patient]
) -> None:
    keep, dupe = pair
    older = make_patient(personas.clinic, given_name="Bobby", family_name="Johnson")
    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=dupe,
        merged=older,
        take_from_merged=set(),
    )
    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=keep,
        merged=dupe,
        take_from_merged=set(),
    )
    older.refresh_from_db()
    assert older.merged_into == keep


def test_merges_must_be_undone_newest_first(
    personas: Personas, pair: tuple[Patient, Patient]
) -> None:
    keep, dupe = pair
    third = make_patient(personas.clinic, given_name="Rob", family_name="Johnson")
    first = patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=keep,
        merged=dupe,
        take_from_merged=set(),
    )
    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=keep,
        merged=third,
        take_from_merged=set(),
    )
    with pytest.raises(MergeRefusedError, match="later merges"):
        patient_unmerge(context=SYSTEM_CONTEXT, user=personas.supervisor, merge=first)


def test_a_merged_record_cannot_be_merged_again(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair
    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=keep,
        merged=dupe,
        take_from_merged=set(),
    )
    other = make_patient(personas.clinic, given_name="Zed")
    page = client_for(personas.supervisor).get(f"/patients/{other.pk}/merge/", {"mrn": dupe.mrn})
    assert page.status_code == 400 and "already merged" in page.content.decode()


def test_only_supervisors_merge(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair
    response = client_for(personas.front_desk).post(f"/patients/merge/{keep.pk}/{dupe.pk}/", {})
    assert response.status_code == 403
    dupe.refresh_from_db()
    assert dupe.is_active


def _access_log(patient: Patient) -> list[AuditEvent]:
    return list(audit_events_for_patient(clinic_id=patient.clinic_id, patient_id=patient.pk))


def test_opening_the_merge_page_is_on_the_patients_access_log(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, _ = pair

    page = client_for(personas.supervisor).get(f"/patients/{keep.pk}/merge/")

    assert page.status_code == 200
    (event,) = [e for e in _access_log(keep) if e.object_type == "merge_start"]
    assert event.action == AuditAction.VIEW
    assert event.actor_username == personas.supervisor.username
    assert event.patient_ids == [keep.pk]


def test_looking_up_a_duplicates_mrn_is_on_both_patients_access_logs(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair

    found = client_for(personas.supervisor).get(f"/patients/{keep.pk}/merge/", {"mrn": dupe.mrn})

    assert found.status_code == 302
    for patient in (keep, dupe):
        (event,) = [e for e in _access_log(patient) if e.object_type == "merge_start"]
        assert event.patient_ids == sorted([keep.pk, dupe.pk])
        assert event.detail == {"mrn": dupe.mrn, "found": True}


def test_a_lookup_of_an_already_merged_record_is_on_its_access_log(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, dupe = pair
    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=keep,
        merged=dupe,
        take_from_merged=set(),
    )
    other = make_patient(personas.clinic, given_name="Zed")

    page = client_for(personas.supervisor).get(f"/patients/{other.pk}/merge/", {"mrn": dupe.mrn})

    assert page.status_code == 400
    (event,) = [e for e in _access_log(dupe) if e.object_type == "merge_start"]
    assert event.patient_ids == sorted([other.pk, dupe.pk])


def test_a_lookup_of_an_mrn_nobody_has_names_only_the_record_kept(
    personas: Personas, pair: tuple[Patient, Patient], client_for: Callable[[User], Client]
) -> None:
    keep, _ = pair

    page = client_for(personas.supervisor).get(f"/patients/{keep.pk}/merge/", {"mrn": "99999999"})

    assert page.status_code == 400
    (event,) = [e for e in _access_log(keep) if e.object_type == "merge_start"]
    assert event.patient_ids == [keep.pk]
    assert event.detail == {"mrn": "99999999", "found": False}
