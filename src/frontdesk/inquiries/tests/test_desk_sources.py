"""The desk queue's contract (desk/sources.py): each source's rows carry exactly ROW_FIELDS, and
every source's rows union into one query, as the desk queue reads them."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk.sources import ROW_FIELDS, desk_sources
from frontdesk.inquiries.desk import SOURCES
from frontdesk.inquiries.models import MedicalQuestion
from frontdesk.inquiries.services import question_answer
from frontdesk.patients.models import Patient

from .helpers import log_call

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)


def test_the_sources_are_registered_under_the_kinds_of_inquiries() -> None:
    registered = desk_sources()
    for source in SOURCES:
        assert registered[source.kind] is source
        assert source.kind.startswith(("call", "callback", "question", "answer"))


def test_every_sources_rows_union_into_one_query_with_exactly_the_row_fields(
    personas: Personas, patient: Patient
) -> None:
    log_call(personas.front_desk, patient, now=NOW)  # a callback
    asked = log_call(
        personas.front_desk, patient, now=NOW, category="medical_question", message="Rash?"
    )
    answered = log_call(
        personas.front_desk, patient, now=NOW, category="medical_question", message="Cough?"
    )
    log_call(
        personas.front_desk,
        patient,
        now=NOW - dt.timedelta(days=3),
        category="medical_question",
        message="Chest pain",
    )
    question_answer(
        context=SYSTEM_CONTEXT,
        user=personas.nurse,
        question_id=MedicalQuestion.objects.get(inquiry=answered).pk,
        answer="Honey and rest.",
        route="desk",
        now=NOW,
    )
    querysets = [s.rows(clinic_id=personas.clinic.pk, now=NOW) for s in SOURCES]
    for queryset in querysets:
        for row in queryset:
            assert tuple(row) == ROW_FIELDS
    first, *rest = querysets
    union = list(first.union(*rest, all=True).order_by("due"))
    by_pool = sorted(row["pool"] for row in union)
    # A callback (desk), two open questions (nurse triage), an answer to relay (desk), and the
    # old red-flag question overdue (supervisors).
    assert by_pool == ["desk", "desk", "nurse_triage", "nurse_triage", "supervisors"]
    assert all(isinstance(row["ref"], int) for row in union)
    assert all(row["patient_id"] == patient.pk for row in union)
    assert {row["red_flag"] for row in union} == {True, False}
    assert MedicalQuestion.objects.get(inquiry=asked).status == "requested"
    assert union == sorted(union, key=lambda row: row["due"])


def test_a_restricted_records_callback_is_named_by_its_mrn_alone_on_the_desk_queue(
    personas: Personas, patient: Patient
) -> None:
    from frontdesk.desk.selectors import desk_page

    patient.confidentiality = "restricted"
    patient.save()
    log_call(personas.front_desk, patient, now=NOW)
    page = desk_page(user=personas.front_desk, now=NOW, kind="callback")
    [row] = page.rows
    assert row.entry is not None
    assert row.entry.patient_label == f"Restricted record · MRN {patient.mrn}"
    assert patient.family_name not in row.entry.patient_label
