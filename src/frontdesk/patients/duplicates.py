"""The registration-time duplicate check: find candidates by indexed blocking, then score.

Blocking uses indexed columns only (birth date or its day/month swap, phone, email, and the
phonetic name keys), so one check costs a few index lookups and a few dozen scorings even on
a million patients (bench/matching_febrl.py measures it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from frontdesk.patients.matching import (
    WARNING_THRESHOLD,
    MatchResult,
    PersonRecord,
    given_name_canonical,
    match_score,
    name_phonetic_key,
)
from frontdesk.patients.models import Patient

CANDIDATE_SCAN_LIMIT = 400


@dataclass(frozen=True)
class DuplicateCandidate:
    patient: Patient
    result: MatchResult


def person_record_from_data(data: Mapping[str, Any]) -> PersonRecord:
    birth_date = data.get("birth_date")
    return PersonRecord(
        given_name=str(data.get("given_name") or ""),
        family_name=str(data.get("family_name") or ""),
        birth_date=birth_date if isinstance(birth_date, dt.date) else None,
        middle_name=str(data.get("middle_name") or ""),
        sex=str(data.get("sex") or ""),
        phone=str(data.get("phone") or ""),
        address_line1=str(data.get("address_line1") or ""),
        address_line2=str(data.get("address_line2") or ""),
        city=str(data.get("city") or ""),
        postal_code=str(data.get("postal_code") or ""),
        state=str(data.get("state") or ""),
        email=str(data.get("email") or ""),
    )


def person_record_from_patient(patient: Patient) -> PersonRecord:
    return PersonRecord(
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        middle_name=patient.middle_name,
        sex=patient.sex,
        phone=patient.phone,
        address_line1=patient.address_line1,
        address_line2=patient.address_line2,
        city=patient.city,
        postal_code=patient.postal_code,
        state=patient.state,
        email=patient.email,
    )


def swapped_day_month(value: dt.date) -> dt.date | None:
    if value.day > 12 or value.day == value.month:
        return None
    return dt.date(value.year, value.day, value.month)


def blocking_condition(record: PersonRecord) -> Q | None:
    condition = Q()
    used = False
    if record.birth_date is not None:
        dates = [record.birth_date]
        swapped = swapped_day_month(record.birth_date)
        if swapped is not None:
            dates.append(swapped)
        condition |= Q(birth_date__in=dates)
        used = True
    if record.phone:
        condition |= Q(phone=record.phone)
        used = True
    if record.email:
        condition |= Q(email=record.email)
        used = True
    if record.family_name and record.given_name:
        family_key = name_phonetic_key(record.family_name)[:16]
        given_key = name_phonetic_key(given_name_canonical(record.given_name))[:16]
        # With a birth date, the name block is narrowed to birth years within one of it: a
        # common name otherwise brings hundreds of namesakes to score, and a same-name pair
        # with a birth date further off is held at a warning by the scorer anyway.
        years = Q()
        if record.birth_date is not None:
            year = record.birth_date.year
            years = Q(
                birth_date__gte=dt.date(max(year - 1, 1), 1, 1),
                birth_date__lte=dt.date(min(year + 1, 9999), 12, 31),
            )
        condition |= Q(family_key=family_key, given_key=given_key) & years
        # Given and family names typed the wrong way round.
        condition |= (
            Q(
                family_key=name_phonetic_key(record.given_name)[:16],
                given_key=name_phonetic_key(given_name_canonical(record.family_name))[:16],
            )
            & years
        )
        used = True
    return condition if used else None


def duplicate_candidates(
    *,
    clinic_id: int,
    record: PersonRecord,
    exclude_ids: Iterable[int] = (),
    limit: int = 10,
) -> list[DuplicateCandidate]:
    """Active patients of the clinic who may be this person, best first, above the warning
    threshold."""
    condition = blocking_condition(record)
    if condition is None:
        return []
    rows = (
        Patient.objects.filter(clinic_id=clinic_id, is_active=True)
        .filter(condition)
        .exclude(pk__in=list(exclude_ids))[:CANDIDATE_SCAN_LIMIT]
    )
    scored = []
    for patient in rows:
        result = match_score(record, person_record_from_patient(patient))
        if result.score >= WARNING_THRESHOLD:
            scored.append(DuplicateCandidate(patient, result))
    scored.sort(key=lambda c: c.result.score, reverse=True)
    return scored[:limit]
