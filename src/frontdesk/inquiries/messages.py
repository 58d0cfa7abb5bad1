"""A clinician's answer sent to the patient through the outbox (messaging/outbox.py), by the
channel the patient agreed to, when the clinician chooses that over the desk relaying it.

The message holds the patient's first name and the clinician's words only: the clinician chose
to write them to the patient. It is rendered when the worker sends it, from the question as it
is then."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from frontdesk.inquiries.models import AnswerRoute, MedicalQuestion
from frontdesk.messaging.models import OutboxMessage
from frontdesk.messaging.outbox import NotRelevantError, OutboxKind, Outgoing

ANSWER_KIND = "question-answer"


def _prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    question = (
        MedicalQuestion.objects.select_related("patient", "answered_by")
        .filter(pk=message.object_id)
        .first()
    )
    if question is None or question.answer_route != AnswerRoute.MESSAGE or not question.answer:
        raise NotRelevantError("The answer is no longer there to send.")
    patient = question.patient
    who = question.answered_by.get_full_name() if question.answered_by else "your care team"
    text = (
        f"Hello {patient.given_name},\n\n"
        f"{who} at {settings.CLINIC_NAME} has answered your question:\n\n"
        f"{question.answer}\n\n"
        "If this is an emergency, call emergency services now.\n"
    )
    return Outgoing(
        patient=patient,
        subject=f"An answer to your question from {settings.CLINIC_NAME}",
        text=text,
        sms_text=f"{settings.CLINIC_NAME}: {question.answer}"[:600],
    )


def _on_status(message: OutboxMessage) -> None:
    """Nothing to record on the question: the outbox keeps the message's own state."""


ANSWER_MESSAGE = OutboxKind(
    name=ANSWER_KIND,
    label="Answer to a medical question",
    prepare=_prepare,
    on_status=_on_status,
)
