"""The letters a records request sends: the cover letter with what was sent, the extension
letter (why, and the new date) and the denial letter (the reason, and the right to a review).

`letter_make` writes them through the clinic's own letter templates (`letters.letter_issue`),
so a clinic words them once, with its other letters; each is printed and filed to the patient
as correspondence, addressed to whoever asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from frontdesk.accounts.models import User
from frontdesk.audit.services import AuditContext
from frontdesk.documents.models import Document
from frontdesk.letters.models import LetterKind
from frontdesk.letters.services import Addressee, letter_issue
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.records.models import RecordsRequest, Requester

KINDS: dict[str, LetterKind] = {
    "cover": LetterKind.RECORDS_RELEASE_COVER,
    "extension": LetterKind.RECORDS_REQUEST_EXTENSION,
    "denial": LetterKind.RECORDS_REQUEST_DENIAL,
}


def _words(request: RecordsRequest) -> str:
    """Which records were asked for, in a sentence's words."""
    kinds = ", ".join(request.kinds_display()) or "records"
    if request.records_from and request.records_to:
        return f"{kinds}, {_day(request.records_from)} to {_day(request.records_to)}"
    return kinds


def _day(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def letter_make(
    *,
    context: AuditContext,
    user: User,
    kind: str,
    request: RecordsRequest,
    fields: Mapping[str, str],
) -> Document:
    """The letter of this kind for this request, from the clinic's template, filed to the
    patient. `fields` gives what only the step knows: the reason, the new date, what was sent."""
    patient = request.patient
    received = request.received_at.astimezone(clinic_zone(request.clinic_id)).date()
    addressee = None
    if request.requester != Requester.PATIENT:
        address = request.delivery_to or request.requester_address
        addressee = Addressee(name=request.recipient, lines=address.splitlines())
    values = {
        "requester_name": (
            f"{patient.given_name} {patient.family_name}"
            if request.requester == Requester.PATIENT
            else request.requester_name or request.requester_organisation
        ),
        "request_received_on": _day(received),
        "records_description": _words(request),
        **fields,
    }
    return letter_issue(
        context=context,
        actor=user,
        patient=patient,
        kind=KINDS[kind],
        fields=values,
        addressee=addressee,
    )
