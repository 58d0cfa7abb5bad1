"""The demo clinic's morning of calls: the desk queue is never empty on `make run`."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
import time_machine

from frontdesk.demo.inquiries_morning import inquiries_morning
from frontdesk.demo.services import demo_load
from frontdesk.inquiries.desk import AnswerSource, CallbackSource, QuestionSource
from frontdesk.inquiries.models import MedicalQuestion, PatientContact

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
TUESDAY = dt.datetime(2026, 12, 8, 11, 30, tzinfo=NY)


def test_the_demo_has_a_morning_of_calls_questions_and_contacts_once_a_day(
    tmp_path: Path,
) -> None:
    with time_machine.travel(TUESDAY, tick=False):
        outcome = demo_load(seed=3, patients=200, credentials_path=tmp_path / "c.txt")
        clinic = outcome.result.clinic
        made = inquiries_morning(clinic=clinic)
        assert (made.calls, made.questions) == (8, 3)
        callbacks = list(CallbackSource().rows(clinic_id=clinic.pk, now=TUESDAY))
        assert {row["pool"] for row in callbacks} == {"desk", "supervisors"}
        assert len(list(QuestionSource().rows(clinic_id=clinic.pk, now=TUESDAY))) == 1
        assert len(list(AnswerSource().rows(clinic_id=clinic.pk, now=TUESDAY))) == 1
        red = MedicalQuestion.objects.get(red_flag=True)
        assert (red.status, red.answer_route) == ("completed", "called")
        assert PatientContact.objects.filter(clinic=clinic).count() == 3
        mother = PatientContact.objects.get(name="Maria Alvarez")
        assert mother.patient.birth_date > dt.date(2008, 12, 8)  # she calls about a child
        # Nothing is logged after the time the morning was made.
        assert not MedicalQuestion.objects.filter(created_at__gt=TUESDAY).exists()
        assert inquiries_morning(clinic=clinic).calls == 0
        # Another day: its own calls, and the contacts are not recorded twice.
        assert inquiries_morning(clinic=clinic, today=dt.date(2026, 12, 9)).calls == 8
        assert PatientContact.objects.filter(clinic=clinic).count() == 3
