"""Reads of the patient index. `access_patient` fetches and authorises in one call."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.selectors import audit_recent_patient_ids
from frontdesk.patients.indexing import family_names_within_one_typo
from frontdesk.patients.matching import normalise_name
from frontdesk.patients.models import (
    BreakGlassGrant,
    Confidentiality,
    Patient,
    PatientAlias,
    SupervisorNotice,
)
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
    if patient.confidentiality == Confidentiality.RESTRICTED and not glass_grant_active(
        user=user, patient=patient
    ):
        raise BreakGlassRequiredError(patient)
    return patient


class BreakGlassRequiredError(Exception):
    """A restricted record: the user must give a reason before it opens."""

    def __init__(self, patient: Patient) -> None:
        super().__init__("restricted record")
        self.patient = patient


def glass_grant_active(*, user: User, patient: Patient) -> bool:
    return BreakGlassGrant.objects.filter(
        user=user, patient=patient, expires_at__gt=timezone.now()
    ).exists()


def access_patient_for_break_glass(user: User, patient_id: int) -> Patient:
    """The restricted patient, for the break-the-glass page only (shows the MRN, nothing more)."""
    try:
        return _patients_for(user, Action.PATIENT_VIEW).get(pk=patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None


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
    # NUL and other control characters are never part of a search (PostgreSQL refuses NUL).
    printable = "".join(c if c.isprintable() else " " for c in raw)
    text = " ".join(printable.split())[:MAX_QUERY_LENGTH]
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


def _prefix(field: str, value: str) -> Q:
    """`field` starts with `value`, as a B-tree range (folded names are lowercase ASCII or
    lowercase letters of other scripts, so the upper bound is the next code point)."""
    upper = value[:-1] + chr(ord(value[-1]) + 1)
    return Q(**{f"{field}__gte": value, f"{field}__lt": upper})


@dataclass(frozen=True)
class _NameQuery:
    family: str | None
    given: str | None


def _name_queries(parsed: ParsedQuery) -> list[_NameQuery]:
    """Ways to read the typed names: "smith jo" may be family+given or given+family."""
    if parsed.family or parsed.given:
        return [
            _NameQuery(
                normalise_name(parsed.family or "") or None,
                normalise_name(parsed.given or "") or None,
            )
        ]
    tokens = [t for t in (normalise_name(t) for t in parsed.tokens) if t]
    if not tokens:
        return []
    if len(tokens) == 1:
        return [_NameQuery(tokens[0], None), _NameQuery(None, tokens[0])]
    first, second = tokens[0], tokens[1]
    readings = [_NameQuery(first, second), _NameQuery(second, first)]
    # A double-barrelled family name typed whole: "smith jones".
    readings.append(_NameQuery(" ".join(tokens), None))
    return readings


def _name_condition(reading: _NameQuery) -> Q:
    condition = Q()
    if reading.family:
        condition &= _prefix("family_norm", reading.family)
    if reading.given:
        condition &= _prefix("given_norm", reading.given) | _prefix("preferred_norm", reading.given)
    return condition


def _name_rank(patient: Patient, readings: list[_NameQuery], fuzzy_ids: set[int]) -> int:
    """0 = exact family (and given), 1 = exact family, 2 = prefix, 3 = one typo."""
    if patient.pk in fuzzy_ids:
        return 3
    best = 2
    for reading in readings:
        family_exact = reading.family is not None and patient.family_norm == reading.family
        given_exact = reading.given is not None and reading.given in (
            patient.given_norm,
            patient.preferred_norm,
        )
        if family_exact and (given_exact or reading.given is None):
            return 0
        if family_exact or (given_exact and reading.family is None):
            best = 1
    return best


def patient_search(user: User, raw_query: str) -> tuple[ParsedQuery, list[Patient]]:
    """Up to 20 active patients: exact matches first, then prefixes, then one-typo names.

    Every branch is an index lookup (see patients/indexing.py and the Patient indexes)."""
    parsed = parse_search_query(raw_query)
    patients = _patients_for(user, Action.PATIENT_SEARCH).filter(is_active=True)
    ordered = patients.order_by("family_norm", "given_norm", "birth_date", "pk")
    if parsed.mrn:
        return parsed, list(patients.filter(mrn=parsed.mrn))
    if parsed.birth_date:
        return parsed, list(ordered.filter(birth_date=parsed.birth_date)[:SEARCH_LIMIT])
    if parsed.phone_e164:
        found = ordered.filter(Q(phone=parsed.phone_e164) | Q(phone_alt=parsed.phone_e164))
        return parsed, list(found[:SEARCH_LIMIT])
    if parsed.phone_tail:
        found = ordered.filter(
            phone_last4=parsed.phone_tail[-4:], phone__endswith=parsed.phone_tail
        )
        return parsed, list(found[:SEARCH_LIMIT])
    readings = _name_queries(parsed)
    if not readings:
        return parsed, []
    found_by_id: dict[int, Patient] = {}
    for reading in readings:
        for patient in ordered.filter(_name_condition(reading))[:SEARCH_LIMIT]:
            found_by_id.setdefault(patient.pk, patient)
    alias_ids = _alias_matches(patients, readings)
    if alias_ids:
        for patient in ordered.filter(pk__in=alias_ids)[:SEARCH_LIMIT]:
            found_by_id.setdefault(patient.pk, patient)
    fuzzy_ids: set[int] = set()
    has_exact_family = any(
        r.family and p.family_norm == r.family for p in found_by_id.values() for r in readings
    )
    if len(found_by_id) < SEARCH_LIMIT and not has_exact_family:
        for patient in _one_typo_family_matches(ordered, readings):
            if patient.pk not in found_by_id:
                found_by_id[patient.pk] = patient
                fuzzy_ids.add(patient.pk)
    results = sorted(
        found_by_id.values(),
        key=lambda p: (_name_rank(p, readings, fuzzy_ids), p.family_norm, p.given_norm, p.pk),
    )
    return parsed, results[:SEARCH_LIMIT]


def _alias_matches(patients: QuerySet[Patient], readings: list[_NameQuery]) -> list[int]:
    """Patients found by a previous family name (a maiden name, say)."""
    families = {r.family for r in readings if r.family and r.given is None}
    if not families:
        return []
    condition = Q()
    for family in families:
        condition |= _prefix("family_norm", family)
    return list(
        PatientAlias.objects.filter(condition, patient__in=patients).values_list(
            "patient_id", flat=True
        )[:SEARCH_LIMIT]
    )


def _one_typo_family_matches(
    ordered: QuerySet[Patient], readings: list[_NameQuery]
) -> list[Patient]:
    found: list[Patient] = []
    for reading in readings:
        if not reading.family:
            continue
        names = family_names_within_one_typo(reading.family)
        if not names:
            continue
        condition = Q(family_norm__in=names)
        if reading.given:
            condition &= _prefix("given_norm", reading.given) | _prefix(
                "preferred_norm", reading.given
            )
        found.extend(ordered.filter(condition)[:SEARCH_LIMIT])
    return found


def patients_recently_opened(user: User, limit: int = 10) -> list[Patient]:
    """The patients this person opened most recently, in that order (two queries)."""
    ids = audit_recent_patient_ids(actor_id=user.pk, limit=limit)
    if not ids:
        return []
    by_id = _patients_for(user, Action.PATIENT_VIEW).in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def supervisor_notices_open(user: User, limit: int = 20) -> list[SupervisorNotice]:
    """Notices not yet acknowledged, newest first, for a supervisor's start page."""
    if not role_may(user.role, Action.NOTICE_ACKNOWLEDGE) or user.clinic_id is None:
        return []
    return list(
        SupervisorNotice.objects.filter(
            clinic_id=user.clinic_id, acknowledged_at__isnull=True
        ).order_by("-created_at")[:limit]
    )
