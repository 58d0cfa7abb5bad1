from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent, AuditEventPatient
from frontdesk.audit.services import GENESIS_HASH, SYSTEM_CONTEXT, audit_record
from frontdesk.audit.triggers import audit_triggers_create, audit_triggers_drop
from frontdesk.audit.verify import audit_chain_verify
from frontdesk.patients.models import Patient


def _record(n: int) -> list[AuditEvent]:
    return [
        audit_record(context=SYSTEM_CONTEXT, action=AuditAction.SYSTEM, detail={"n": i})
        for i in range(n)
    ]


def _tamper(sql: str, params: list[Any]) -> None:
    """What a person with database access could do: lift the trigger and edit a row."""
    audit_triggers_drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    audit_triggers_create(connection)


@pytest.mark.django_db
def test_it_chains_each_event_to_the_previous_one() -> None:
    first, second, third = _record(3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.content_hash
    assert third.prev_hash == second.content_hash
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert len({first.content_hash, second.content_hash, third.content_hash}) == 3


@pytest.mark.django_db
def test_verify_passes_on_an_untouched_trail(capsys: pytest.CaptureFixture[str]) -> None:
    _record(5)
    call_command("audit", "verify")
    assert "5 events verified" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_names_the_first_altered_event() -> None:
    events = _record(4)
    _tamper(
        "UPDATE audit_auditevent SET actor_username = %s WHERE id = %s",
        ["mallory", events[1].pk],
    )
    with pytest.raises(CommandError, match=r"event #2 was altered"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_verify_notices_an_altered_hash_through_the_broken_link_after_it() -> None:
    events = _record(3)
    _tamper("UPDATE audit_auditevent SET content_hash = %s WHERE id = %s", ["f" * 64, events[0].pk])
    report = audit_chain_verify()
    assert not report.ok
    assert report.problem is not None and "#1" in report.problem


@pytest.mark.django_db
def test_verify_names_a_deleted_event() -> None:
    events = _record(4)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=r"event #3 is missing"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_verify_notices_events_removed_from_the_end() -> None:
    events = _record(3)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = audit_chain_verify()
    assert report.problem is not None and "removed or replaced" in report.problem


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_auditevent SET purpose = 'x'", "DELETE FROM audit_auditevent"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_an_audit_row(sql: str) -> None:
    _record(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(sql)
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_to_delete_patient_links_of_audit_events(personas: Personas) -> None:
    patient = make_patient(personas.clinic)
    audit_record(context=SYSTEM_CONTEXT, action=AuditAction.VIEW, patient_ids=[patient.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEventPatient.objects.all().delete()


@pytest.mark.django_db
def test_an_audit_event_rolls_back_with_the_change_it_records(personas: Personas) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        patient = make_patient(personas.clinic)
        audit_record(context=SYSTEM_CONTEXT, action=AuditAction.CREATE, patient_ids=[patient.pk])
        raise RuntimeError("the save failed after the audit event was written")
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()
    audit_record(context=SYSTEM_CONTEXT, action=AuditAction.SYSTEM)
    assert audit_chain_verify().ok


def test_opening_a_chart_records_who_what_from_where_and_why(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.nurse)
    response = client.get(
        f"/patients/{patient.pk}/", HTTP_USER_AGENT="DeskBrowser/1.0", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW, object_type="patient")
    assert event.actor_username == "nora"
    assert event.actor_role == "nurse"
    assert event.patient_ids == [patient.pk]
    assert event.client_ip == "10.1.2.3"
    assert event.user_agent == "DeskBrowser/1.0"
    assert event.purpose == "treatment"
    assert event.clinic_id_value == personas.clinic.pk


def test_searching_records_the_terms_and_the_patients_shown(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    smith = make_patient(personas.clinic, family_name="Smith")
    make_patient(personas.clinic, family_name="Jones")
    client_for(personas.front_desk).get("/patients/", {"q": "smi"})
    event = AuditEvent.objects.get(action=AuditAction.SEARCH)
    assert event.detail == {"terms": "smi", "results": 1}
    assert event.patient_ids == [smith.pk]


def test_a_supervisor_sees_who_accessed_a_patient_when_and_why(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client_for(personas.front_desk).get(f"/patients/{patient.pk}/")
    client_for(personas.physician).get(f"/patients/{patient.pk}/")
    page = client_for(personas.supervisor).get(f"/audit/patients/{patient.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice" in html and "phil" in html
    assert "operations: patient services" in html and "treatment" in html
    assert audit_chain_verify().ok


def test_the_access_page_lists_only_events_for_that_patient(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    first = make_patient(personas.clinic, family_name="First")
    second = make_patient(personas.clinic, family_name="Second")
    client_for(personas.billing).get(f"/patients/{second.pk}/")
    page = client_for(personas.supervisor).get(f"/audit/patients/{first.pk}/")
    # The billing clerk's look at the other patient is not on this one's page.
    assert "bill" not in page.content.decode().split("<main", 1)[1]
