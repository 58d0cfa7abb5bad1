"""The desk queue's sources from calls and questions (desk/sources.py's contract).

- `callback`: callbacks still owed, due at their next attempt; in the desk's pool, or the
  supervisors' once the clinic's maximum attempts were used.
- `question`: medical questions waiting for a clinician, in nurse triage or with the patient's
  usual provider; a red flag (from the phrase match) comes first.
- `answer`: clinicians' answers for the desk to relay to the patient.
- `question_overdue`: questions past their deadline without an answer, for the supervisors.

Each is a queryset over the rows themselves, so an item leaves the queue the moment its cause
is resolved (reached, answered, relayed). A model field cannot be re-annotated under its own
name, so where a row's pool is not its question's own (an answer to relay is the desk's, an
escalation the supervisors'), the rows are taken from the call that raised the question, whose
model has no such field; `ref` is then the call's id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from frontdesk.accounts.roles import Role
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import (
    PATIENT_FIELDS,
    ROW_FIELDS,
    DeskEntry,
    desk_patient_label,
    moment,
)
from frontdesk.inquiries.models import (
    AnswerRoute,
    Callback,
    Inquiry,
    MedicalQuestion,
    TaskStatus,
)
from frontdesk.lib.urls import id_url
from frontdesk.patients.models import Patient

OPEN = (TaskStatus.REQUESTED, TaskStatus.IN_PROGRESS)
# The desk relays a clinician's answer within this time of it being written.
RELAY_WITHIN = dt.timedelta(hours=1)
# A question asked at the counter: the patient is taken to be still there for this long.
AT_THE_DESK = dt.timedelta(minutes=30)


def _patient_label(patient: Patient | None) -> str:
    # As the desk queue names patients (a restricted record by its MRN alone); a call from
    # someone who is not a patient names nobody.
    return "" if patient is None else desk_patient_label(patient)


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M %b %-d}"


class CallbackSource:
    kind = "callback"
    label = "Callbacks"
    roles = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Callback.objects.filter(clinic_id=clinic_id, status__in=OPEN)
            .annotate(
                ref=F("pk"),
                since=F("created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        entries: dict[int, DeskEntry] = {}
        found = (
            Callback.objects.filter(pk__in=list(refs))
            .select_related("patient", "inquiry")
            .only("attempts", "pool", "preferred_time", "inquiry__category", *PATIENT_FIELDS)
        )
        for callback in found:
            tries = f"{callback.attempts} attempt{'s' if callback.attempts != 1 else ''} so far"
            title = f"Call back about {callback.inquiry.get_category_display().lower()}"
            if callback.pool == Pool.SUPERVISORS:
                title += " (maximum attempts reached)"
            entries[callback.pk] = DeskEntry(
                title=title,
                url=id_url("inquiries:callback", callback.pk),
                patient_label=_patient_label(callback.patient),
                detail=tries
                + (f" · prefers {callback.preferred_time}" if callback.preferred_time else ""),
            )
        return entries


class QuestionSource:
    kind = "question"
    label = "Medical questions"
    roles = frozenset({Role.NURSE, Role.PHYSICIAN, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            MedicalQuestion.objects.filter(clinic_id=clinic_id, status=TaskStatus.REQUESTED)
            .annotate(
                ref=F("pk"),
                since=F("created_at"),
                patient_waiting=Case(
                    When(
                        inquiry__channel="desk",
                        created_at__gte=moment(now, lambda t: t - AT_THE_DESK),
                        then=True,
                    ),
                    default=False,
                    output_field=BooleanField(),
                ),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        entries: dict[int, DeskEntry] = {}
        found = (
            MedicalQuestion.objects.filter(pk__in=list(refs))
            .select_related("patient")
            .only("red_flag", "routed_to", "due", *PATIENT_FIELDS)
        )
        for question in found:
            title = "Answer a medical question"
            if question.red_flag:
                title = "RED FLAG: answer a medical question now"
            entries[question.pk] = DeskEntry(
                title=title,
                url=id_url("inquiries:question", question.pk),
                patient_label=_patient_label(question.patient),
                detail=f"For {question.routed_to} · due {_when(question.due)}",
            )
        return entries


def _by_inquiry(refs: Sequence[int]) -> dict[int, MedicalQuestion]:
    questions = (
        MedicalQuestion.objects.filter(inquiry_id__in=list(refs))
        .select_related("patient")
        .only("inquiry_id", "routed_to", "due", "answered_at", *PATIENT_FIELDS)
    )
    return {q.inquiry_id: q for q in questions if q.inquiry_id is not None}


class AnswerSource:
    kind = "answer"
    label = "Answers to relay"
    roles = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Inquiry.objects.filter(
                clinic_id=clinic_id,
                question__status=TaskStatus.IN_PROGRESS,
                question__answer_route=AnswerRoute.DESK,
                question__relayed_at__isnull=True,
            )
            .annotate(
                ref=F("pk"),
                due=ExpressionWrapper(
                    F("question__answered_at") + Value(RELAY_WITHIN), output_field=DateTimeField()
                ),
                since=F("question__answered_at"),
                red_flag=F("question__red_flag"),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.DESK.value),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        return {
            ref: DeskEntry(
                title="Relay a clinician's answer to the patient",
                url=id_url("inquiries:question", question.pk),
                patient_label=_patient_label(question.patient),
                detail=f"Answered {_when(question.answered_at or now)}",
            )
            for ref, question in _by_inquiry(refs).items()
        }


class QuestionOverdueSource:
    kind = "question_overdue"
    label = "Overdue medical questions"
    roles = frozenset({Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Inquiry.objects.filter(
                clinic_id=clinic_id,
                question__status=TaskStatus.REQUESTED,
                question__due__lt=moment(now),
            )
            .annotate(
                ref=F("pk"),
                due=F("question__due"),
                since=F("question__created_at"),
                red_flag=F("question__red_flag"),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.SUPERVISORS.value),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        return {
            ref: DeskEntry(
                title="Overdue medical question: find a clinician to answer it",
                url=id_url("inquiries:question", question.pk),
                patient_label=_patient_label(question.patient),
                detail=f"Was due {_when(question.due)} with {question.routed_to}",
            )
            for ref, question in _by_inquiry(refs).items()
        }


SOURCES = (CallbackSource(), QuestionSource(), AnswerSource(), QuestionOverdueSource())
