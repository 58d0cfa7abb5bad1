"""The columns a patient import file may give: the header names each field goes by, what the
cells may hold, and the help made from them (`frontdesk import-patients --help`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from frontdesk.patients.forms import RegistrationForm
from frontdesk.patients.models import PhoneKind


@dataclass(frozen=True)
class ImportColumn:
    """One field a file may give, and the header names that give it."""

    field: str  # a RegistrationForm field, or mobile_phone / home_phone / work_phone
    names: tuple[str, ...]  # normalised header names; the first is the field's own
    values: str = ""  # what the cells may hold, for the help text


COLUMNS: Final[tuple[ImportColumn, ...]] = (
    ImportColumn(
        "given_name",
        ("given_name", "first_name", "firstname", "first", "forename", "fname"),
        "required",
    ),
    ImportColumn("middle_name", ("middle_name", "middle", "middlename", "middle_initial")),
    ImportColumn(
        "family_name",
        ("family_name", "last_name", "lastname", "surname", "last", "lname"),
        "required",
    ),
    ImportColumn("suffix", ("suffix", "name_suffix")),
    ImportColumn("preferred_name", ("preferred_name", "nickname", "known_as")),
    ImportColumn(
        "previous_family_name",
        ("previous_family_name", "maiden_name", "previous_last_name", "former_last_name"),
    ),
    ImportColumn("previous_given_name", ("previous_given_name", "previous_first_name")),
    ImportColumn(
        "birth_date",
        ("birth_date", "dob", "date_of_birth", "birthdate"),
        "required; YYYY-MM-DD or the clinic's order (MM/DD/YYYY, or DD/MM/YYYY when"
        " DATE_INPUT_ORDER=DMY); a time of midnight after the date is ignored",
    ),
    ImportColumn(
        "sex",
        ("sex", "gender", "sex_at_birth", "administrative_sex"),
        "M/Male, F/Female, O/Other/X, U/Unknown; blank = unknown; with a sex column, gender is"
        " the gender identity",
    ),
    ImportColumn(
        "gender_identity", ("gender_identity",), "gender is this when a sex column is present"
    ),
    ImportColumn("pronouns", ("pronouns",)),
    ImportColumn(
        "phone", ("phone", "phone_number", "telephone", "tel", "primary_phone", "main_phone")
    ),
    ImportColumn(
        "phone_kind", ("phone_kind", "phone_type"), "mobile/cell, home, work; blank = mobile"
    ),
    ImportColumn(
        "mobile_phone", ("mobile_phone", "mobile", "cell", "cell_phone", "cellphone"), "a mobile"
    ),
    ImportColumn("home_phone", ("home_phone",), "a home phone"),
    ImportColumn("work_phone", ("work_phone", "business_phone"), "a work phone"),
    ImportColumn(
        "phone_alt",
        (
            "phone_alt",
            "other_phone",
            "alt_phone",
            "alternate_phone",
            "secondary_phone",
            "phone2",
        ),
    ),
    ImportColumn(
        "phone_alt_kind",
        ("phone_alt_kind", "phone_alt_type", "other_phone_kind", "other_phone_type"),
        "mobile/cell, home, work; blank = home",
    ),
    ImportColumn("email", ("email", "email_address", "e_mail")),
    ImportColumn(
        "address_line1",
        ("address_line1", "address", "address1", "address_line_1", "street", "street_address"),
    ),
    ImportColumn("address_line2", ("address_line2", "address2", "address_line_2")),
    ImportColumn("city", ("city", "town")),
    ImportColumn("state", ("state", "province", "region", "state_province")),
    ImportColumn(
        "postal_code",
        ("postal_code", "zip", "zip_code", "zipcode", "postcode"),
        "US ZIP codes that lost leading zeros get them back",
    ),
    ImportColumn("country", ("country", "country_code"), "code or name; blank = US"),
    ImportColumn("preferred_language", ("preferred_language", "language"), "blank = English"),
    ImportColumn(
        "interpreter_needed",
        ("interpreter_needed", "interpreter"),
        "yes/no (also y/n, true/false, 1/0, x)",
    ),
    ImportColumn(
        "preferred_contact",
        ("preferred_contact", "contact_preference", "preferred_contact_method"),
        "phone, sms/text, email, mail/letter; blank = phone, else mail, else email",
    ),
    ImportColumn("consent_sms", ("consent_sms", "sms_consent", "text_consent"), "yes/no"),
    ImportColumn("consent_email", ("consent_email", "email_consent"), "yes/no"),
    ImportColumn("emergency_contact_name", ("emergency_contact_name", "emergency_contact")),
    ImportColumn("emergency_contact_relationship", ("emergency_contact_relationship",)),
    ImportColumn("emergency_contact_phone", ("emergency_contact_phone", "emergency_phone")),
    ImportColumn(
        "guarantor_relationship",
        ("guarantor_relationship",),
        "self, parent, spouse/partner, guardian, other; blank = self",
    ),
    ImportColumn("guarantor_name", ("guarantor_name", "guarantor")),
    ImportColumn("guarantor_phone", ("guarantor_phone",)),
    ImportColumn(
        "alerts",
        ("alerts",),
        "codes or labels (wheelchair, interpreter, hearing, sight, service_animal, fall_risk,"
        " behaviour, latex) separated by ; | or ,",
    ),
    ImportColumn("alert_note", ("alert_note",)),
    ImportColumn("confidentiality", ("confidentiality",), "normal, restricted; blank = normal"),
)
REQUIRED_FIELDS: Final = ("given_name", "family_name", "birth_date")
# Phones from columns that say their kind, in the order they fill main phone, then other.
KINDED_PHONES: Final = (
    ("mobile_phone", PhoneKind.MOBILE),
    ("home_phone", PhoneKind.HOME),
    ("work_phone", PhoneKind.WORK),
)
_PSEUDO_LABELS: Final = {
    "mobile_phone": "Mobile phone",
    "home_phone": "Home phone",
    "work_phone": "Work phone",
}
BY_HEADER: Final = {name: column.field for column in COLUMNS for name in column.names}


def column_help() -> str:
    """The accepted columns, one field a line, for the command's help."""
    lines = []
    for column in COLUMNS:
        values = f"  [{column.values}]" if column.values else ""
        lines.append(f"  {', '.join(column.names)}{values}")
    return "\n".join(lines)


def field_label(name: str) -> str:
    if name in _PSEUDO_LABELS:
        return _PSEUDO_LABELS[name]
    return str(RegistrationForm.base_fields[name].label)


def header_normalise(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


def column_of(name: str) -> ImportColumn:
    return next(column for column in COLUMNS if column.field == name)
