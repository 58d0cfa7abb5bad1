"""Merge fields: what each kind of letter may say about the patient, the visit, the referral or
the request, the built-in words of each kind, and the merge itself.

A template is text a supervisor typed, so it is never a Django template (which could reach any
attribute of anything in its context): `{name}` is replaced by a declared field's value, once,
and nothing else in the text means anything. The values are plain text; the letter's page
escapes them with the rest of the text when it prints the paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from frontdesk.letters.models import LetterKind

# `{name}`: a field. A brace that does not close such a name is kept as typed.
_FIELD = re.compile(r"\{([^{}\n]{1,60})\}")


@dataclass(frozen=True)
class Field:
    name: str
    meaning: str
    sample: str  # shown in the preview, never a real patient's


_COMMON = (
    Field("patient_name", "the patient's full name", "Maria Lopez"),
    Field("patient_first_name", "the patient's first name", "Maria"),
    Field("clinic_name", "the clinic's name", "Riverside Family Clinic"),
    Field("clinic_phone", "the clinic's phone number", "(202) 555-0100"),
    Field("today", "the date of the letter", "March 4, 2026"),
)
_APPOINTMENT = (
    Field("appointment_date", "the visit's date", "Tuesday, March 10, 2026"),
    Field("appointment_time", "the visit's time", "9:30 AM"),
    Field("provider_name", "who the visit is with", "Dr. Ana Shah"),
    Field("appointment_type", "the kind of visit", "Follow-up"),
    Field("location_name", "where the visit is", "Main Street office"),
    Field("location_address", "the address of that place", "12 Main Street, Springfield"),
)
_REFERRAL = (
    Field("referrer_name", "who referred the patient", "Dr. Paul Green"),
    Field("referring_practice", "the referrer's practice", "Green Street Practice"),
    Field("referral_reason", "what the patient was referred for", "Knee pain"),
)
_RECORDS = (
    Field("requester_name", "who asked for the records", "Maria Lopez"),
    Field("request_received_on", "when the request was received", "March 2, 2026"),
    Field("records_description", "which records", "Visit notes, 2024 to 2026"),
)
_COMPLAINT = (
    Field("complaint_received_on", "when the complaint was received", "March 2, 2026"),
    Field("handler_name", "who is handling it", "Sam Ortiz"),
)


def _fields(*groups: tuple[Field, ...]) -> dict[str, Field]:
    return {f.name: f for group in (_COMMON, *groups) for f in group}


def _reason(meaning: str, sample: str) -> tuple[Field, ...]:
    return (Field("reason", meaning, sample),)


FIELDS: dict[str, dict[str, Field]] = {
    LetterKind.APPOINTMENT_CONFIRMATION: _fields(_APPOINTMENT),
    LetterKind.MISSED_APPOINTMENT: _fields(_APPOINTMENT),
    LetterKind.REFERRAL_ACCEPTED: _fields(_REFERRAL),
    LetterKind.REFERRAL_DECLINED: _fields(
        _REFERRAL, _reason("why the referral was declined", "We do not treat this condition.")
    ),
    LetterKind.RECORDS_RELEASE_COVER: _fields(
        _RECORDS,
        (
            Field("how_sent", "how the records were sent", "By secure email, 12 pages"),
            Field("fee", "the fee charged for the copy", "$6.50"),
        ),
    ),
    LetterKind.RECORDS_REQUEST_EXTENSION: _fields(
        _RECORDS,
        _reason("why more time is needed", "Part of the records are kept off site."),
        (Field("due_date", "the new date the records are due", "May 1, 2026"),),
    ),
    LetterKind.RECORDS_REQUEST_DENIAL: _fields(
        _RECORDS, _reason("why the request is denied", "The authorisation was not signed.")
    ),
    LetterKind.COMPLAINT_ACKNOWLEDGEMENT: _fields(
        _COMPLAINT, (Field("response_due", "when the written response is due", "March 9, 2026"),)
    ),
    LetterKind.COMPLAINT_RESPONSE: _fields(
        _COMPLAINT, (Field("response", "the written response", "We have spoken to the team."),)
    ),
}

# The built-in subject and body of each kind, used until the clinic saves its own.
DEFAULTS: dict[str, tuple[str, str]] = {
    LetterKind.APPOINTMENT_CONFIRMATION: (
        "Your appointment on {appointment_date}",
        "Dear {patient_first_name},\n\n"
        "This letter confirms your appointment with {provider_name} on {appointment_date} at "
        "{appointment_time} ({appointment_type}), at {location_name}, {location_address}.\n\n"
        "Please arrive ten minutes early and bring your insurance card and a photo "
        "identification. If you cannot come, call us on {clinic_phone} so we can offer the "
        "time to someone else.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.MISSED_APPOINTMENT: (
        "We missed you on {appointment_date}",
        "Dear {patient_first_name},\n\n"
        "You had an appointment with {provider_name} on {appointment_date} at "
        "{appointment_time}, and we did not see you. We hope you are well.\n\n"
        "Your care matters to us: please call us on {clinic_phone} to book another time.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.REFERRAL_ACCEPTED: (
        "Referral of {patient_name} accepted",
        "Dear {referrer_name},\n\n"
        "Thank you for referring {patient_name} to {clinic_name} for {referral_reason}. We have "
        "accepted the referral and will contact the patient to book a visit.\n\n"
        "We will send you our report after the patient has been seen.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.REFERRAL_DECLINED: (
        "Referral of {patient_name} declined",
        "Dear {referrer_name},\n\n"
        "Thank you for referring {patient_name} to {clinic_name} for {referral_reason}. We are "
        "sorry that we cannot accept this referral.\n\n"
        "Reason: {reason}\n\n"
        "Please call us on {clinic_phone} if you would like to discuss it.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.RECORDS_RELEASE_COVER: (
        "Records of {patient_name}",
        "Dear {requester_name},\n\n"
        "Enclosed are the records you asked for on {request_received_on}: "
        "{records_description}.\n\n"
        "Sent: {how_sent}. Fee: {fee}.\n\n"
        "These records are confidential. Please keep them safe and share them only as the "
        "patient's authorisation allows.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.RECORDS_REQUEST_EXTENSION: (
        "Your request for records: more time needed",
        "Dear {requester_name},\n\n"
        "We received your request for records ({records_description}) on "
        "{request_received_on}. We need more time to complete it, for this reason: {reason}\n\n"
        "We will send the records by {due_date}.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.RECORDS_REQUEST_DENIAL: (
        "Your request for records",
        "Dear {requester_name},\n\n"
        "We received your request for records ({records_description}) on "
        "{request_received_on}. We cannot release them, for this reason: {reason}\n\n"
        "You may ask for this decision to be reviewed by calling us on {clinic_phone}.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.COMPLAINT_ACKNOWLEDGEMENT: (
        "We have received your complaint",
        "Dear {patient_first_name},\n\n"
        "Thank you for telling us about your experience. We received your complaint on "
        "{complaint_received_on}, and {handler_name} is looking into it.\n\n"
        "We will write to you with our response by {response_due}.\n\n"
        "Yours sincerely,\n{clinic_name}",
    ),
    LetterKind.COMPLAINT_RESPONSE: (
        "Response to your complaint",
        "Dear {patient_first_name},\n\n"
        "Thank you for telling us about your experience. We have looked into the complaint we "
        "received on {complaint_received_on}, and this letter is our written response.\n\n"
        "{response}\n\n"
        "If you are not satisfied with this response, please contact us again; you may also "
        "contact your state's health department or the agency that oversees the clinic.\n\n"
        "Yours sincerely,\n{handler_name}\n{clinic_name}",
    ),
}


class UnknownFieldError(ValueError):
    """The text names a field this kind of letter cannot use; the message names it."""


def fields_used(text: str) -> list[str]:
    """The names between braces in `text`, in order, each once."""
    return list(dict.fromkeys(match.group(1) for match in _FIELD.finditer(text)))


def fields_check(kind: str, text: str) -> None:
    """Refuse text that names a field `kind` does not declare, naming it and the allowed ones."""
    allowed = FIELDS[kind]
    unknown = [name for name in fields_used(text) if name not in allowed]
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        verb = "is not a field" if len(unknown) == 1 else "are not fields"
        can = ", ".join("{" + name + "}" for name in allowed)
        raise UnknownFieldError(f"{names} {verb} this letter can use; it can use: {can}.")


def merge(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{field}` replaced by its value, in one pass (a value that itself holds
    braces is never merged again)."""
    return _FIELD.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def paragraphs(text: str) -> list[list[str]]:
    """Merged text as paragraphs (split at blank lines), each a list of its lines."""
    text = text.replace("\r\n", "\n")
    blocks = re.split(r"\n\s*\n", text.strip())
    return [[line.strip() for line in block.split("\n")] for block in blocks if block.strip()]


def sample_values(kind: str) -> dict[str, str]:
    return {name: f.sample for name, f in FIELDS[kind].items()}
