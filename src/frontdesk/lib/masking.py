"""Masking of PHI for list screens and logs."""

from __future__ import annotations

import datetime as dt


def mask_phone(e164: str) -> str:
    """Show only the last four digits: enough to confirm with the patient, not to dial."""
    digits = [c for c in e164 if c.isdigit()]
    if len(digits) < 4:
        return "•" * len(digits)
    return "••• ••• " + "".join(digits[-4:])


def mask_email(address: str) -> str:
    """The first character of the mailbox and the domain: "j•••@example.com"."""
    mailbox, at, domain = address.rpartition("@")
    if not at or not mailbox:
        return "•••"
    return f"{mailbox[0]}•••@{domain}"


def mask_document_number(number: str) -> str:
    """The last four characters of a long number, the last two of a short one: enough to tell
    two documents apart with the patient, not enough to use."""
    shown = 4 if len(number) >= 8 else 2
    if len(number) <= shown:
        return "•" * len(number)
    return "•••• " + number[-shown:]


def mask_birth_date(value: dt.date) -> str:
    """Birth year only; the full date is shown once the record is opened."""
    return f"••/••/{value.year}"


def age_on(birth_date: dt.date, today: dt.date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
