"""The registration-time duplicate check: find candidates by indexed blocking, then score.

Blocking uses indexed columns only (birth date or its day/month swap, phone, email, and the
phonetic name keys with the birth years a typo could have made), so one check costs a few
index lookups and a few dozen scorings even on a million patients (bench/duplicate_check.py
measures it). How common the typed names, birth date and postal code are in the clinic's
index is counted at check time by indexed queries (`value_frequencies`), so the weights
follow the index as it grows without any table to rebuild.

A candidate who shares the household (phone, email or street address) but is clearly
someone else (a twin, a parent, a Jr) is not a duplicate warning: `duplicate_check` returns
such candidates apart, as household members, for a quieter note.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.db import connection
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from frontdesk.lib.masking import mask_document_number, mask_phone
from frontdesk.patients.matching.records import (
    PersonRecord,
    ValueFrequencies,
    birth_date_key,
    given_name_canonical,
    name_phonetic_key,
    normalise_name,
    postcode_normalise,
)
from frontdesk.patients.matching.verdict import WARNING_THRESHOLD, MatchResult, match_score
from frontdesk.patients.models import Confidentiality, IdentityDocumentKind, Patient, Sex

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
        suffix=str(data.get("suffix") or ""),
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
        suffix=patient.suffix,
    )


def swapped_day_month(value: dt.date) -> dt.date | None:
    if value.day > 12 or value.day == value.month:
        return None
    return dt.date(value.year, value.day, value.month)


# The earliest birth year a typo is taken to have made; later than any living patient's.
_EARLIEST_YEAR = 1880


def year_typo_dates(value: dt.date) -> list[dt.date]:
    """The same day and month in every year one keystroke away: one digit of the year
    changed, or two neighbouring digits swapped (1984: 1994, 1884, 1948, 1894...)."""
    text = f"{value.year:04d}"
    years: set[int] = set()
    for i in range(4):
        years.update(int(text[:i] + digit + text[i + 1 :]) for digit in "0123456789")
        if i < 3:
            years.add(int(text[:i] + text[i + 1] + text[i] + text[i + 2 :]))
    latest = timezone.now().year + 1  # a bound on years: the clinic's zone does not matter
    dates = []
    for year in sorted(years - {value.year}):
        if _EARLIEST_YEAR <= year <= latest:
            try:
                dates.append(value.replace(year=year))
            except ValueError:  # 29 February in a year that has none
                continue
    return dates


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
        given_key = name_phonetic_key(given_name_canonical(record.given_name))[:16]
        keys = [
            Q(family_key=name_phonetic_key(record.family_name)[:16], given_key=given_key),
            # Given and family names typed the wrong way round.
            Q(
                family_key=name_phonetic_key(record.given_name)[:16],
                given_key=name_phonetic_key(given_name_canonical(record.family_name))[:16],
            ),
        ]
        if record.birth_date is None:
            for key in keys:
                condition |= key
        else:
            # With a birth date, the name block is narrowed to birth years within one of it
            # and to the dates a typo in the year makes: a common name otherwise brings
            # hundreds of namesakes to score, and a same-name pair further off is another
            # person (a parent, a child) the scorer holds below the verdict anyway.
            year = record.birth_date.year
            years = Q(
                birth_date__gte=dt.date(max(year - 1, 1), 1, 1),
                birth_date__lte=dt.date(min(year + 1, 9999), 12, 31),
            )
            typos = year_typo_dates(record.birth_date)
            swapped = swapped_day_month(record.birth_date)
            if swapped is not None:
                typos += year_typo_dates(swapped)
            # Each OR branch is one index's search (SQLite's OR optimisation needs every
            # branch indexable on its own, or it reads the whole table).
            for key in keys:
                condition |= key & (years | Q(birth_date__in=typos))
            # A married name or a family-name typo together with a typo in the birth year:
            # the given name's key on the dates a year typo makes.
            condition |= Q(given_key=given_key, birth_date__in=typos)
        used = True
    return condition if used else None


# The size of each clinic's index, for the term frequencies. A small index is counted at
# every check (a millisecond); a large one at most every few minutes per process (a count
# over a million rows costs tens of milliseconds), since a few minutes of growth does not
# change its shares.
_SIZE_SECONDS = 300.0
_SIZE_ALWAYS_COUNTED = 50_000
_sizes: dict[int, tuple[float, int]] = {}
_sizes_lock = threading.Lock()


def _cached_index_size(clinic_id: int) -> int | None:
    """The cached size of a large index while fresh; None when it must be counted."""
    cached = _sizes.get(clinic_id)
    if (
        cached is not None
        and cached[1] >= _SIZE_ALWAYS_COUNTED
        and time.monotonic() - cached[0] < _SIZE_SECONDS
    ):
        return cached[1]
    return None


def value_frequencies(*, clinic_id: int, record: PersonRecord) -> ValueFrequencies:
    """How many of the clinic's records hold the typed given name, family name, birth date
    and postal code (and how many records it has): counts on indexes that start with the
    clinic, in one round trip, read at check time."""
    given = normalise_name(record.given_name)[:100]
    family = normalise_name(record.family_name)[:100]
    postcode = record.postal_code.strip()[:20]
    wanted: list[tuple[str, str, str, str]] = []  # field, column, value, key
    if given:
        wanted.append(("given", "given_norm", given, given.replace(" ", "")))
    if family:
        wanted.append(("family", "family_norm", family, family.replace(" ", "")))
    if record.birth_date is not None:
        day = record.birth_date
        wanted.append(("birth_date", "birth_date", day.isoformat(), birth_date_key(day)))
    if postcode:
        wanted.append(("postcode", "postal_code", postcode, postcode_normalise(postcode)))
    size = _cached_index_size(clinic_id)
    table = connection.ops.quote_name(Patient._meta.db_table)
    # One statement of scalar subqueries: each count is an index-only range on its own
    # (clinic, column) index; the column names come from the list above, never from input.
    parts = [
        f"(SELECT COUNT(*) FROM {table} WHERE clinic_id = %s AND {column} = %s)"  # noqa: S608
        for _, column, _, _ in wanted
    ]
    params: list[int | str] = []
    for _, _, value, _ in wanted:
        params += [clinic_id, value]
    if size is None:
        parts.append(f"(SELECT COUNT(*) FROM {table} WHERE clinic_id = %s)")  # noqa: S608
        params.append(clinic_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    if size is None:
        size = int(row[-1])
        with _sizes_lock:
            _sizes[clinic_id] = (time.monotonic(), size)
    counts: dict[str, dict[str, int]] = {
        "given": {},
        "family": {},
        "birth_date": {},
        "postcode": {},
    }
    for (field, _, _, key), count in zip(wanted, row, strict=False):
        counts[field][key] = int(count)
    return ValueFrequencies(index_size=size, **counts)


@dataclass(frozen=True)
class DuplicateCheck:
    """What the registration check found: likely duplicates (best first, at or above the
    warning threshold) and members of the same household who are clearly someone else."""

    candidates: list[DuplicateCandidate]
    household: list[DuplicateCandidate]


def duplicate_check(
    *,
    clinic_id: int,
    record: PersonRecord,
    exclude_ids: Iterable[int] = (),
    limit: int = 10,
) -> DuplicateCheck:
    """Active patients of the clinic who may be this person, and household members.

    A record that cannot be scored (nothing to block on) finds no one: the check never
    stops a registration it could not judge."""
    condition = blocking_condition(record)
    if condition is None:
        return DuplicateCheck([], [])
    rows = list(
        Patient.objects.filter(clinic_id=clinic_id, is_active=True)
        .filter(condition)
        .exclude(pk__in=list(exclude_ids))[:CANDIDATE_SCAN_LIMIT]
    )
    if not rows:
        return DuplicateCheck([], [])
    frequencies = value_frequencies(clinic_id=clinic_id, record=record)
    scored, household = [], []
    for patient in rows:
        result = match_score(record, person_record_from_patient(patient), frequencies=frequencies)
        if result.household_member:
            household.append(DuplicateCandidate(patient, result))
        elif result.score >= WARNING_THRESHOLD:
            scored.append(DuplicateCandidate(patient, result))
    scored.sort(key=lambda c: c.result.score, reverse=True)
    household.sort(key=lambda c: (c.patient.family_name, c.patient.given_name, c.patient.pk))
    return DuplicateCheck(scored[:limit], household[:limit])


def duplicate_candidates(
    *,
    clinic_id: int,
    record: PersonRecord,
    exclude_ids: Iterable[int] = (),
    limit: int = 10,
) -> list[DuplicateCandidate]:
    """Active patients of the clinic who may be this person, best first, above the warning
    threshold (household members who are clearly someone else are left out)."""
    return duplicate_check(
        clinic_id=clinic_id, record=record, exclude_ids=exclude_ids, limit=limit
    ).candidates


@dataclass(frozen=True)
class FieldComparison:
    """One row of the side-by-side comparison of what was typed with a candidate's record.
    `same` is None when there is nothing to compare (the detail is on one side only)."""

    label: str
    typed: str
    on_record: str
    same: bool | None
    # The reveal endpoint's field name when `on_record` is masked as on lists (phone).
    reveal: str = ""
    note: str = ""


def _words(value: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", value.casefold()).split())


def _address(line1: str, line2: str, city: str, state: str, postal_code: str) -> str:
    place = " ".join(part for part in (state, postal_code) if part)
    return ", ".join(part for part in (line1, line2, city, place) if part)


def _date(value: dt.date | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else ""


def _phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def _compared(label: str, typed: str, on_record: str, same: bool, **extra: str) -> FieldComparison:
    both = bool(typed) and bool(on_record)
    return FieldComparison(label, typed, on_record, same if both else None, **extra)


def candidate_comparison(
    *, data: Mapping[str, Any], document: Mapping[str, Any] | None, patient: Patient
) -> list[FieldComparison]:
    """What was typed (RegistrationForm's cleaned data and the optional identity document)
    beside a candidate's record, field by field. The candidate's phone and document numbers
    are masked as on lists; `patient.identity_documents` should be prefetched."""
    typed, known = person_record_from_data(data), person_record_from_patient(patient)
    rows = [
        _compared(
            "Name",
            " ".join(p for p in (typed.given_name, typed.middle_name, typed.family_name) if p),
            " ".join(p for p in (known.given_name, known.middle_name, known.family_name) if p),
            (normalise_name(typed.given_name), normalise_name(typed.family_name))
            == (normalise_name(known.given_name), normalise_name(known.family_name)),
        ),
        _compared(
            "Birth date",
            _date(typed.birth_date),
            _date(known.birth_date),
            typed.birth_date == known.birth_date,
            note=(
                "Day and month swapped"
                if typed.birth_date
                and known.birth_date
                and swapped_day_month(typed.birth_date) == known.birth_date
                else ""
            ),
        ),
        _compared(
            "Sex",
            Sex(typed.sex).label if typed.sex in Sex.values else typed.sex,
            patient.get_sex_display(),
            typed.sex == known.sex,
        ),
        _compared(
            "Phone",
            _phone(typed.phone) if typed.phone else "",
            mask_phone(known.phone) if known.phone else "",
            typed.phone == known.phone,
            reveal="phone" if known.phone else "",
        ),
        _compared(
            "Address",
            _address(
                typed.address_line1, typed.address_line2, typed.city, typed.state, typed.postal_code
            ),
            _address(
                known.address_line1, known.address_line2, known.city, known.state, known.postal_code
            ),
            _words(f"{typed.address_line1} {typed.address_line2} {typed.postal_code}")
            == _words(f"{known.address_line1} {known.address_line2} {known.postal_code}"),
        ),
        _compared(
            "Email", typed.email, known.email, typed.email.casefold() == known.email.casefold()
        ),
    ]
    documents = list(patient.identity_documents.all())
    if document or documents:
        held = ", ".join(
            f"{d.get_kind_display()} {mask_document_number(d.number)}" for d in documents
        )
        typed_document = (
            f"{IdentityDocumentKind(document['kind']).label} {document['number']}"
            if document
            else ""
        )
        rows.append(
            _compared(
                "Identity document",
                typed_document,
                held,
                document is not None
                and any(
                    (d.kind, d.number) == (document["kind"], document["number"]) for d in documents
                ),
            )
        )
    return rows


@dataclass(frozen=True)
class CandidateComparison:
    candidate: DuplicateCandidate
    # A restricted record shows its name and MRN only, as in search results.
    restricted: bool
    rows: list[FieldComparison]


def duplicate_comparisons(
    *,
    data: Mapping[str, Any],
    document: Mapping[str, Any] | None,
    candidates: list[DuplicateCandidate],
) -> list[CandidateComparison]:
    """The registration read-back's side-by-side view of each candidate (one query for their
    identity documents)."""
    shown = [
        c.patient for c in candidates if c.patient.confidentiality != Confidentiality.RESTRICTED
    ]
    prefetch_related_objects(shown, "identity_documents")
    return [
        CandidateComparison(
            candidate=c,
            restricted=c.patient not in shown,
            rows=(
                candidate_comparison(data=data, document=document, patient=c.patient)
                if c.patient in shown
                else []
            ),
        )
        for c in candidates
    ]
