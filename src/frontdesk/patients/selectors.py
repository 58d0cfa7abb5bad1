"""Reads of the patient index. `access_patient` fetches and authorises in one call."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.selectors import audit_recent_patient_ids
from frontdesk.patients.models import Patient
from frontdesk.patients.mrn import mrn_is_valid

SEARCH_LIMIT = 20
MAX_QUERY_LENGTH = 100


class PatientAccessDeniedError(Exception):
    """The user's role may not perform this action on patients."""


def _patients_for(user: User, action: Action) -> QuerySet[Patient]:
    if not role_may(user.role, action):
        raise PatientAccessDeniedError(action)
    # Staff see only their own clinic's patients; a user with no clinic sees none.
    if user.clinic_id is None:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=user.clinic_id)


def access_patient(user: User, patient_id: int) -> Patient:
    """The patient, if this user may view them; merged records resolve to their survivor."""
    patients = _patients_for(user, Action.PATIENT_VIEW)
    try:
        patient = patients.get(pk=patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None
    seen = {patient.pk}
    while patient.merged_into_id is not None and patient.merged_into_id not in seen:
        seen.add(patient.merged_into_id)
        patient = patients.get(pk=patient.merged_into_id)
    return patient


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    mrn: str | None = None
    birth_date: dt.date | None = None
    phone_e164: str | None = None
    phone_tail: str | None = None
    family: str | None = None
    given: str | None = None
    tokens: tuple[str, ...] = ()


_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_SLASH = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def _parse_date(text: str) -> dt.date | None:
    match = _DATE_ISO.match(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        match = _DATE_SLASH.match(text)
        if match:
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            if settings.DATE_INPUT_ORDER == "DMY":
                return dt.date(year, second, first)
            return dt.date(year, first, second)
    except ValueError:
        return None
    return None


def parse_search_query(raw: str) -> ParsedQuery:
    """Work out what the officer typed: an MRN, a birth date, a phone number or a name."""
    text = " ".join(raw.split())[:MAX_QUERY_LENGTH]
    if not text:
        return ParsedQuery(text="")
    compact = re.sub(r"[\s\-().+]", "", text)
    if compact.isdigit() and len(compact) == 8 and mrn_is_valid(compact):
        return ParsedQuery(text=text, mrn=compact)
    birth_date = _parse_date(text)
    if birth_date is not None:
        return ParsedQuery(text=text, birth_date=birth_date)
    if compact.isdigit() and len(compact) >= 4:
        e164 = None
        try:
            number = phonenumbers.parse(text, settings.PHONE_REGION)
            if phonenumbers.is_valid_number(number):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            e164 = None
        return ParsedQuery(text=text, phone_e164=e164, phone_tail=compact[-10:])
    if "," in text:
        family, _, given = text.partition(",")
        return ParsedQuery(text=text, family=family.strip() or None, given=given.strip() or None)
    tokens = tuple(t for t in re.split(r"\s+", text) if t)
    return ParsedQuery(text=text, tokens=tokens[:4])


def patient_search(user: User, raw_query: str) -> tuple[ParsedQuery, list[Patient]]:
    """Up to 20 active patients matching the query, exact matches ranked first."""
    parsed = parse_search_query(raw_query)
    patients = _patients_for(user, Action.PATIENT_SEARCH).filter(is_active=True)
    if parsed.mrn:
        found = patients.filter(mrn=parsed.mrn)
    elif parsed.birth_date:
        found = patients.filter(birth_date=parsed.birth_date)
    elif parsed.phone_e164:
        found = patients.filter(phone=parsed.phone_e164)
    elif parsed.phone_tail:
        found = patients.filter(phone__endswith=parsed.phone_tail)
    elif parsed.family or parsed.given:
        condition = Q()
        if parsed.family:
            condition &= Q(family_name__istartswith=parsed.family)
        if parsed.given:
            condition &= Q(given_name__istartswith=parsed.given) | Q(
                preferred_name__istartswith=parsed.given
            )
        found = patients.filter(condition)
    elif parsed.tokens:
        found = patients.filter(_name_tokens_condition(parsed.tokens))
    else:
        return parsed, []
    results = list(found.order_by("family_name", "given_name", "birth_date")[:200])
    results.sort(key=lambda p: _rank(p, parsed))
    return parsed, results[:SEARCH_LIMIT]


def _name_tokens_condition(tokens: tuple[str, ...]) -> Q:
    """Every token must prefix one of the names, in any order ("jo smith" = "smith jo")."""
    condition = Q()
    for token in tokens:
        condition &= (
            Q(family_name__istartswith=token)
            | Q(given_name__istartswith=token)
            | Q(preferred_name__istartswith=token)
            | Q(middle_name__istartswith=token)
        )
    return condition


def _rank(patient: Patient, parsed: ParsedQuery) -> tuple[int, str, str]:
    words = {w.lower() for w in (parsed.tokens or (parsed.family or "", parsed.given or ""))}
    # An exact family name outranks an exact given name, which outranks a prefix.
    exact = 2 * (patient.family_name.lower() in words) + (patient.given_name.lower() in words)
    return (-exact, patient.family_name.lower(), patient.given_name.lower())


def patients_recently_opened(user: User, limit: int = 10) -> list[Patient]:
    """The patients this person opened most recently, in that order (two queries)."""
    ids = audit_recent_patient_ids(actor_id=user.pk, limit=limit)
    if not ids:
        return []
    by_id = _patients_for(user, Action.PATIENT_VIEW).in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]
