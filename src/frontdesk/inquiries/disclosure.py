"""Who may hear what: the sentence the desk reads before saying anything about a patient.

A caller who is not the patient is checked against the patient's recorded contacts and
personal representatives (PatientContact). Someone not on the list, or whose permission has
ended, hears nothing: "Do not disclose: not an authorised contact". The desk never matches a
name typed freely against the list: the officer chooses the contact, having checked who is
calling, so a caller cannot borrow a parent's permission by giving the parent's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontdesk.inquiries.models import CallerKind, Category, Disclosure, PatientContact

_SAYS = {
    Disclosure.NOTHING: "Do not disclose: this contact may not be told anything",
    Disclosure.APPOINTMENTS: "You may discuss appointments only",
    Disclosure.BILLING: "You may discuss appointments and billing only",
    Disclosure.EVERYTHING: "You may discuss everything on the record",
}
NOT_AUTHORISED = "Do not disclose: not an authorised contact"
# What each category of call needs the caller to be allowed to hear.
_NEEDS = {
    Category.APPOINTMENT: {Disclosure.APPOINTMENTS, Disclosure.BILLING, Disclosure.EVERYTHING},
    Category.BILLING: {Disclosure.BILLING, Disclosure.EVERYTHING},
    Category.RECORDS: {Disclosure.EVERYTHING},
    Category.MEDICAL_QUESTION: {Disclosure.EVERYTHING},
}


@dataclass(frozen=True)
class Verdict:
    level: Disclosure
    words: str  # the sentence the page shows, plainly
    allowed: bool  # False: the page shows it as a warning
    category_note: str = ""  # the call's category needs more than the caller may hear


def disclosure_verdict(
    *,
    caller_kind: str,
    contact: PatientContact | None,
    today: dt.date,
    category: str = "",
) -> Verdict:
    if caller_kind == CallerKind.PATIENT:
        return Verdict(
            Disclosure.EVERYTHING,
            "The patient: confirm their name and birth date, then you may discuss their record",
            True,
        )
    if caller_kind != CallerKind.CONTACT or contact is None:
        return Verdict(Disclosure.NOTHING, NOT_AUTHORISED, False)
    if contact.valid_until is not None and contact.valid_until < today:
        return Verdict(
            Disclosure.NOTHING,
            f"{NOT_AUTHORISED} (their permission ended on {contact.valid_until:%b %-d, %Y})",
            False,
        )
    level = Disclosure(contact.may_hear)
    verdict = Verdict(level, _SAYS[level], level != Disclosure.NOTHING)
    needs = _NEEDS.get(Category(category)) if category in Category.values else None
    if needs is not None and level not in needs:
        label = Category(category).label.lower()
        return Verdict(
            level,
            verdict.words,
            verdict.allowed,
            f"Do not discuss this {label} with them: take a message for the patient.",
        )
    return verdict
