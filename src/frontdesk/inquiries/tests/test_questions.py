"""Medical questions: deadlines in the clinic's business days, only clinicians answer, the desk
relays once, overdue questions go to the supervisors, and each item leaves the queue when its
cause is resolved."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.desk import AnswerSource, QuestionOverdueSource, QuestionSource
from frontdesk.inquiries.models import MedicalQuestion
from frontdesk.inquiries.selectors import questions_of_pools
from frontdesk.inquiries.services import (
    InquiryRefusedError,
    question_answer,
    question_relay,
    questions_escalate_overdue,
)
from frontdesk.messaging.models import OutboxMessage
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import ClinicHoliday

from .helpers import log_call, rows

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# Tuesday 8 December 2026, 10:00 in New York.
TUESDAY = dt.datetime(2026, 12, 8, 10, 0, tzinfo=NEW_YORK)


def _question(
    personas: Personas, patient: Patient, *, now: dt.datetime = TUESDAY, **fields: object
) -> MedicalQuestion:
    values: dict[str, object] = {
        "category": "medical_question",
        "message": "Is it fine to take paracetamol with my antibiotics?",
    }
    values.update(fields)
    inquiry = log_call(personas.front_desk, patient, now=now, **values)
    return MedicalQuestion.objects.get(inquiry=inquiry)


def _answer(
    personas: Personas, question: MedicalQuestion, *, user: User | None = None, **kw: object
) -> MedicalQuestion:
    values: dict[str, object] = {"answer": "Yes, up to 4 g a day.", "route": "desk"}
    values.update(kw)
    return question_answer(
        context=SYSTEM_CONTEXT,
        user=user or personas.nurse,
        question_id=question.pk,
        **values,  # type: ignore[arg-type]
    )


def test_a_routine_question_is_due_in_one_business_day_and_an_urgent_one_in_an_hour(
    personas: Personas, patient: Patient
) -> None:
    routine = _question(personas, patient)
    assert routine.due == dt.datetime(2026, 12, 9, 10, 0, tzinfo=NEW_YORK)
    urgent = _question(personas, patient, urgency="urgent")
    assert urgent.due == TUESDAY + dt.timedelta(hours=1)
    assert urgent.priority == "urgent"


def test_a_routine_deadline_skips_the_weekend_and_the_clinics_holidays(
    personas: Personas, patient: Patient
) -> None:
    ClinicHoliday.objects.create(
        clinic=personas.clinic, date=dt.date(2026, 12, 28), name="Christmas (observed)"
    )
    ClinicHoliday.objects.create(clinic=personas.clinic, date=dt.date(2026, 12, 25), name="Xmas")
    # Christmas Eve, a Thursday, at 16:30.
    asked = dt.datetime(2026, 12, 24, 16, 30, tzinfo=NEW_YORK)
    question = _question(personas, patient, now=asked)
    # 25 holiday, 26-27 weekend, 28 holiday: due Tuesday 29th at the same hour.
    assert question.due.astimezone(NEW_YORK) == dt.datetime(2026, 12, 29, 16, 30, tzinfo=NEW_YORK)


def test_the_deadlines_are_the_clinics_own(personas: Personas, patient: Patient) -> None:
    from frontdesk.inquiries.models import InquirySettings
    from frontdesk.inquiries.red_flags import DEFAULT_RED_FLAGS

    InquirySettings.objects.create(
        clinic=personas.clinic,
        question_urgent_minutes=30,
        question_routine_business_days=2,
        red_flag_phrases=DEFAULT_RED_FLAGS,
        updated_at=TUESDAY,
    )
    assert _question(personas, patient).due == dt.datetime(2026, 12, 10, 10, tzinfo=NEW_YORK)
    urgent = _question(personas, patient, urgency="urgent")
    assert urgent.due == TUESDAY + dt.timedelta(minutes=30)


def test_the_front_desk_can_never_write_a_clinical_answer(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    question = _question(personas, patient)
    # The policy says so...
    assert {r for r in Role if role_may(r, Action.QUESTION_ANSWER)} == {Role.NURSE, Role.PHYSICIAN}
    url = reverse("inquiries:question_answer", args=[question.pk])
    for user in (personas.front_desk, personas.supervisor, personas.billing, personas.admin):
        response = client_for(user).post(url, {"answer": "Take two", "route": "desk"})
        assert response.status_code == 403, user.role
    # ...the service refuses whatever page the call comes from...
    for user in (personas.front_desk, personas.supervisor):
        with pytest.raises(InquiryRefusedError, match="Only a nurse or a physician"):
            _answer(personas, question, user=user)
    # ...and the question page offers the desk no answer form.
    page = client_for(personas.front_desk).get(reverse("inquiries:question", args=[question.pk]))
    assert "Save the answer" not in page.content.decode()
    assert "The desk never answers a medical question" in page.content.decode()
    question.refresh_from_db()
    assert (question.status, question.answer) == ("requested", "")


def test_a_nurse_answers_the_desk_relays_and_each_item_leaves_its_queue(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    question = _question(personas, patient)
    clinic = personas.clinic.pk
    assert [r["ref"] for r in rows(QuestionSource(), clinic, TUESDAY)] == [question.pk]
    assert question in questions_of_pools(personas.nurse, TUESDAY)
    nurse = client_for(personas.nurse)
    answered = nurse.post(
        reverse("inquiries:question_answer", args=[question.pk]),
        {"answer": "Yes, paracetamol is fine with it.", "route": "desk"},
    )
    assert answered.status_code == 302
    assert rows(QuestionSource(), clinic, TUESDAY) == []
    (relay_row,) = rows(AnswerSource(), clinic, TUESDAY)
    assert (relay_row["ref"], relay_row["pool"]) == (question.inquiry_id, "desk")
    described = AnswerSource().describe([relay_row["ref"]], now=TUESDAY)
    assert described[relay_row["ref"]].url == reverse("inquiries:question", args=[question.pk])
    desk = client_for(personas.front_desk)
    relayed = desk.post(reverse("inquiries:question_relay", args=[question.pk]), {"note": ""})
    assert relayed.status_code == 302
    assert rows(AnswerSource(), clinic, TUESDAY) == []
    question.refresh_from_db()
    assert question.status == "completed"
    events = AuditEvent.objects.filter(object_type="medical_question", action="update")
    assert [e.detail["event"] for e in events.order_by("seq")] == ["answered", "relayed"]
    # The whole thread is one record on the chart.
    chart = desk.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "relayed" in chart
    thread = desk.get(reverse("inquiries:question", args=[question.pk])).content.decode()
    for step in ("Asked", "Routed", "Answered", "Relayed", "Yes, paracetamol is fine with it."):
        assert step in thread


def test_relaying_twice_is_refused_in_words(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    question = _answer(personas, _question(personas, patient))
    question_relay(context=SYSTEM_CONTEXT, user=personas.front_desk, question_id=question.pk)
    with pytest.raises(InquiryRefusedError, match="already relayed by Alice"):
        question_relay(context=SYSTEM_CONTEXT, user=personas.front_desk, question_id=question.pk)
    again = client_for(personas.front_desk).post(
        reverse("inquiries:question_relay", args=[question.pk]), {"note": "second time"}
    )
    assert again.status_code == 400
    assert "already relayed" in again.content.decode()


def test_an_answer_cannot_be_relayed_before_a_clinician_writes_it(
    personas: Personas, patient: Patient
) -> None:
    question = _question(personas, patient)
    with pytest.raises(InquiryRefusedError, match="no answer for the desk to relay"):
        question_relay(context=SYSTEM_CONTEXT, user=personas.front_desk, question_id=question.pk)


def test_an_answer_sent_by_message_goes_through_the_outbox_and_needs_no_relay(
    personas: Personas, patient: Patient
) -> None:
    patient.email = "john@example.org"
    patient.consent_email = True
    patient.save()
    question = _answer(personas, _question(personas, patient), route="message")
    assert question.status == "completed"
    message = OutboxMessage.objects.get()
    assert (message.kind, message.object_id, message.channel) == (
        "question-answer",
        question.pk,
        "email",
    )
    assert rows(AnswerSource(), personas.clinic.pk, TUESDAY) == []


def test_an_answer_by_message_is_refused_when_the_patient_agreed_to_none(
    personas: Personas, patient: Patient
) -> None:
    question = _question(personas, patient)
    with pytest.raises(InquiryRefusedError, match="agreed to no email or text"):
        _answer(personas, question, route="message")
    assert not OutboxMessage.objects.exists()


def test_a_clinician_who_called_the_patient_closes_the_thread(
    personas: Personas, patient: Patient
) -> None:
    question = _answer(personas, _question(personas, patient), route="called")
    assert question.status == "completed"
    assert rows(AnswerSource(), personas.clinic.pk, TUESDAY) == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [("   ", "Write the answer"), ("x" * 4001, "Keep the answer to 4,000 characters")],
)
def test_an_empty_or_enormous_answer_is_refused(
    personas: Personas, patient: Patient, answer: str, words: str
) -> None:
    question = _question(personas, patient)
    with pytest.raises(InquiryRefusedError, match=words):
        _answer(personas, question, answer=answer)


def test_an_overdue_question_escalates_to_the_supervisors_until_it_is_answered(
    personas: Personas, patient: Patient
) -> None:
    question = _question(personas, patient, urgency="urgent")
    clinic = personas.clinic.pk
    before = question.due - dt.timedelta(minutes=1)
    after = question.due + dt.timedelta(minutes=1)
    assert rows(QuestionOverdueSource(), clinic, before) == []
    (row,) = rows(QuestionOverdueSource(), clinic, after)
    assert (row["pool"], row["due"]) == ("supervisors", question.due)
    assert question in questions_of_pools(personas.supervisor, after)
    assert questions_escalate_overdue(context=SYSTEM_CONTEXT, now=after) == 1
    assert questions_escalate_overdue(context=SYSTEM_CONTEXT, now=after) == 0
    question.refresh_from_db()
    assert question.escalated_at == after
    _answer(personas, question)
    assert rows(QuestionOverdueSource(), clinic, after) == []


def test_a_physician_sees_the_questions_routed_to_them_and_a_nurse_does_not(
    personas: Personas, patient: Patient
) -> None:
    from frontdesk.clinic.models import Provider
    from frontdesk.inquiries.models import UsualProvider

    provider = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Phil",
        family_name="Rivera",
        specialty="Family medicine",
        staff_user=personas.physician,
    )
    UsualProvider.objects.create(patient=patient, provider=provider)
    question = _question(personas, patient)
    assert questions_of_pools(personas.physician, TUESDAY) == [question]
    assert questions_of_pools(personas.nurse, TUESDAY) == []


def test_the_questions_page_lists_red_flags_first_with_their_deadlines(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    routine = _question(personas, patient)
    red = _question(personas, patient, message="She has severe bleeding from the nose")
    assert questions_of_pools(personas.nurse, TUESDAY) == [red, routine]
    page = client_for(personas.nurse).get(reverse("inquiries:questions")).content.decode()
    assert page.index("severe bleeding") < page.index("paracetamol")
    assert "Red flag: now" in page


def test_the_answer_message_holds_the_clinicians_words_when_the_worker_sends_it(
    personas: Personas, patient: Patient
) -> None:
    from frontdesk.inquiries.messages import ANSWER_MESSAGE

    patient.email = "john@example.org"
    patient.consent_email = True
    patient.save()
    _answer(personas, _question(personas, patient), route="message", answer="Rest and fluids.")
    outgoing = ANSWER_MESSAGE.prepare(OutboxMessage.objects.get(), TUESDAY)
    assert outgoing.patient == patient
    assert "Rest and fluids." in outgoing.text
    assert outgoing.text.startswith(f"Hello {patient.given_name},")
    assert outgoing.sms_text is not None and "Rest and fluids." in outgoing.sms_text


def test_staff_of_another_clinic_cannot_read_answer_or_relay_a_question(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    question = _answer(personas, _question(personas, patient))
    outsider = client_for(personas.outsider)
    assert outsider.get(reverse("inquiries:question", args=[question.pk])).status_code == 404
    relay = outsider.post(reverse("inquiries:question_relay", args=[question.pk]), {})
    assert relay.status_code in (400, 404)
    question.refresh_from_db()
    assert question.relayed_at is None
    with pytest.raises(InquiryRefusedError, match="no such question"):
        question_relay(context=SYSTEM_CONTEXT, user=personas.outsider, question_id=question.pk)


def test_the_questions_page_marks_a_restricted_records_question(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    _question(personas, patient)
    page = client_for(personas.nurse).get(reverse("inquiries:questions")).content.decode()
    assert '<span class="tag">Restricted</span>' not in page
    patient.confidentiality = "restricted"
    patient.save()
    page = client_for(personas.nurse).get(reverse("inquiries:questions")).content.decode()
    assert '<span class="tag">Restricted</span>' in page
