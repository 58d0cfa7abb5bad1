"""A letter sent to the patient through the outbox (messaging/outbox.py), by the channel they
agreed to: by email with the letter's PDF attached; by text, a note that a letter waits for
them at the desk (a text carries no letter, and no word of what it says)."""

from __future__ import annotations

import datetime as dt

from django.core.files.storage import default_storage

from frontdesk.letters.models import Letter
from frontdesk.messaging.models import OutboxMessage
from frontdesk.messaging.outbox import NotRelevantError, OutboxKind, Outgoing

LETTER_KIND = "letter"


def _prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    letter = (
        Letter.objects.select_related("patient", "document", "clinic")
        .filter(pk=message.object_id)
        .first()
    )
    if letter is None or letter.document.patient_id != letter.patient_id:
        raise NotRelevantError("The letter is no longer filed to this patient.")
    patient = letter.patient
    with default_storage.open(letter.document.file, "rb") as handle:
        pdf = handle.read()
    clinic = letter.clinic.name
    text = (
        f"Hello {patient.preferred_name or patient.given_name},\n\n"
        f"{clinic} has written to you: “{letter.subject}”. The letter is attached.\n\n"
        f"{clinic}\n"
    )
    return Outgoing(
        patient=patient,
        subject=f"{letter.subject} ({clinic})",
        text=text,
        sms_text=(
            f"{clinic} has a letter for you. Ask for it at the desk, or call us to have it emailed."
        ),
        attachments=(("letter.pdf", pdf, "application/pdf"),),
    )


def _on_status(message: OutboxMessage) -> None:
    """Nothing to record on the letter: the outbox keeps the message's own state."""


LETTER_MESSAGE = OutboxKind(
    name=LETTER_KIND, label="Letter", prepare=_prepare, on_status=_on_status
)
