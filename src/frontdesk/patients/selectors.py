"""Reads of the patient index. `access_patient` fetches and authorises in one call."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.selectors import audit_recent_patient_ids
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.lib.dates import date_parse
from frontdesk.patients.indexing import family_names_within_one_typo
from frontdesk.patients.matching.records import normalise_name
from frontdesk.patients.models import (
    BreakGlassGrant,
    Confidentiality,
    Coverage,
    HouseholdLink,
    IdentityDocument,
    Patient,
    PatientAlias,
    PatientMerge,
    SupervisorNotice,
)
from frontdesk.patients.mrn import mrn_is_valid

SEARCH_LIMIT = 20
# Rows kept for one-typo family names when other names starting with the word fill the page.
TYPO_ROWS_KEPT = 5
# The columns the results list shows and ranks by. A page of 20 from up to six index scans
# carries 120 rows; loading the other forty-odd columns of each cost more than the scans.
SEARCH_COLUMNS = (
    "clinic_id",
    "mrn",
    "given_name",
    "family_name",
    "suffix",
    "preferred_name",
    "birth_date",
    "phone",
    "confidentiality",
    "is_active",
    "merged_into_id",
    "last_visit_on",
    "family_norm",
    "given_norm",
    "preferred_norm",
)
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
    return patient_access_check(user, patient)


def patient_access_check(user: User, patient: Patient) -> Patient:
    """`access_patient`'s rules for a patient reached through another record (an appointment,
    a queue entry, a payment, a waitlist entry, a merge...): the user's clinic only, a merged
    record resolves to its survivor, and a restricted record raises `BreakGlassRequiredError`
    unless the user holds a live grant. Returns the patient to show.

    Every `access_*` helper that fetches such a record calls this before returning it, so no
    page reaches a restricted patient's data, or changes it, without a stated reason. The role
    check stays with the helper: each checks the action of its own page.
    """
    if user.clinic_id is None or patient.clinic_id != user.clinic_id:
        raise Http404("No such patient")
    seen = {patient.pk}
    while patient.merged_into_id is not None and patient.merged_into_id not in seen:
        seen.add(patient.merged_into_id)
        patient = Patient.objects.get(pk=patient.merged_into_id, clinic_id=user.clinic_id)
    if patient.confidentiality == Confidentiality.RESTRICTED and not glass_grant_active(
        user=user, patient=patient
    ):
        raise BreakGlassRequiredError(patient)
    return patient


def access_merge(user: User, merge_id: int) -> PatientMerge:
    """A merge to undo, if its surviving record opens for this user as on their chart: undoing
    it rewrites a restricted record, so that asks for a reason first."""
    if not role_may(user.role, Action.PATIENT_MERGE) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.PATIENT_MERGE)
    merge = (
        PatientMerge.objects.filter(pk=merge_id, survivor__clinic_id=user.clinic_id)
        .select_related("survivor")
        .first()
    )
    if merge is None:
        raise Http404("No such merge")
    patient_access_check(user, merge.survivor)
    return merge


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
    # Letters and digits as an identity document's number is stored (see IdentityDocument),
    # and as an insurance member ID is compared (Coverage.member_id_norm).
    document_number: str | None = None


def _parse_date(text: str) -> dt.date | None:
    # Registration's own parser (ClinicDateField), in the clinic's order: every birth date the
    # form accepts is one the search box finds.
    return date_parse(text, order=settings.DATE_INPUT_ORDER)


def parse_search_query(raw: str) -> ParsedQuery:
    """Work out what the officer typed: an MRN, a birth date, a phone number or a name."""
    # NUL and other control characters are never part of a search (PostgreSQL refuses NUL).
    printable = "".join(c if c.isprintable() else " " for c in raw)
    text = " ".join(printable.split())[:MAX_QUERY_LENGTH]
    if not text:
        return ParsedQuery(text="")
    compact = re.sub(r"[\s\-().+]", "", text)
    # A date typed as 1995-04-19 compacts to eight digits; one in ten of those passes the MRN
    # check digit and used to be looked up as an MRN (showing a stranger, or no one).
    birth_date = _parse_date(text)
    if birth_date is not None:
        return ParsedQuery(text=text, birth_date=birth_date)
    document = _document_shaped(text)
    if compact.isascii() and compact.isdigit() and len(compact) == 8 and mrn_is_valid(compact):
        return ParsedQuery(text=text, mrn=compact, document_number=document)
    if document is not None and not document.isdigit():
        # Letters and digits together are no name and no phone: a licence or passport number.
        return ParsedQuery(text=text, document_number=document)
    if compact.isascii() and compact.isdigit() and len(compact) >= 4:
        e164 = None
        try:
            number = phonenumbers.parse(text, settings.PHONE_REGION)
            if phonenumbers.is_valid_number(number):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            e164 = None
        return ParsedQuery(
            text=text, phone_e164=e164, phone_tail=compact[-10:], document_number=document
        )
    if "," in text:
        family, _, given = text.partition(",")
        return ParsedQuery(text=text, family=family.strip() or None, given=given.strip() or None)
    tokens = tuple(t for t in re.split(r"\s+", text) if t)
    return ParsedQuery(text=text, tokens=tokens[:4])


_DOCUMENT_SEPARATORS = re.compile(r"[\s\-./]")


def _document_shaped(text: str) -> str | None:
    """The query as a stored document number, if it could be one: 5 to 30 letters and digits
    with at least one digit (typed spaces, hyphens and dots left out)."""
    number = _DOCUMENT_SEPARATORS.sub("", text).upper()
    if (
        number.isascii()
        and number.isalnum()
        and 5 <= len(number) <= 30
        and any(c.isdigit() for c in number)
    ):
        return number
    return None


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


_NAME_ORDER = ("family_norm", "given_norm", "birth_date", "pk")
# Name branches are ordered by exactly their index's columns, so the scan stops after
# SEARCH_LIMIT rows without a sort. With tie-breakers added, PostgreSQL sorts, and when it
# underestimates a prefix range (1 row for "evan", which holds 1,960) it reads the whole range
# first. Rows tied on the indexed names come in index order; the page is sorted afterwards.
_BY_FAMILY = ("family_norm", "given_norm")
_BY_GIVEN = ("given_norm", "family_norm")
# Preferred names are few (a nickname on one patient in sixteen), so their scans run along the
# preferred_norm index, never along a family that may hold 18,000 Smiths.
_BY_PREFERRED = ("preferred_norm",)
# The nearest one-typo family names looked up for each typed family name.
_TYPO_NAMES = 8


@dataclass(frozen=True)
class _Branch:
    """One index range scan of the patients the user may search: a condition on the patient
    table's columns (with %s placeholders), its values, and the index order to read in."""

    condition: str
    params: tuple[object, ...]
    order: tuple[str, ...]


def _column(name: str, *, table: type[Model] = Patient) -> str:
    quote = connection.ops.quote_name
    return f"{quote(table._meta.db_table)}.{quote(name)}"


_Condition = tuple[str, Sequence[object]]


def _starts(column: str, value: str, *, table: type[Model] = Patient) -> _Condition:
    """`column` starts with `value`, as a B-tree range (folded names are lowercase ASCII or
    lowercase letters of other scripts, so the upper bound is the next code point)."""
    upper = value[:-1] + chr(ord(value[-1]) + 1)
    col = _column(column, table=table)
    return f"{col} >= %s AND {col} < %s", (value, upper)


def _branch(order: tuple[str, ...], *conditions: _Condition) -> _Branch:
    return _Branch(
        " AND ".join(sql for sql, _ in conditions),
        tuple(value for _, values in conditions for value in values),
        order,
    )


def _name_branches(reading: _NameQuery) -> list[_Branch]:
    """The index range scans that answer one reading, each in its index's order so it stops
    after SEARCH_LIMIT rows.

    A given name and a preferred name are separate scans: an OR of the two cannot be answered
    from one index, and PostgreSQL then walked every patient of a common family in name order,
    reading each row to test the preferred name ("smith jo": 8,000 rows, 13 ms)."""
    family, given = reading.family, reading.given
    if family and not given:
        return [_branch(_BY_FAMILY, _starts("family_norm", family))]
    if family and given:
        # The family as LIKE 'x%', which the family index cannot serve: PostgreSQL estimates a
        # >=/< range that falls between two histogram bounds at one row ("peter": 3,700), and
        # then walked the family reading every row for a nickname. LIKE it estimates properly.
        escaped = family.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        family_like = (f"{_column('family_norm')} LIKE %s ESCAPE '\\'", (escaped + "%",))
        return [
            _branch(_BY_FAMILY, _starts("family_norm", family), _starts("given_norm", given)),
            _branch(_BY_PREFERRED, _starts("preferred_norm", given), family_like),
        ]
    if given:
        # In the (given_norm, family_norm) index's order, not family order: family order would
        # mean reading every "jo..." patient (50,000 in a million) to sort them.
        return [
            _branch(_BY_GIVEN, _starts("given_norm", given)),
            _branch(_BY_PREFERRED, _starts("preferred_norm", given)),
        ]
    return []


def _alias_branch(readings: list[_NameQuery]) -> list[_Branch]:
    """Patients found by a previous family name (a maiden name, say)."""
    families = sorted({r.family for r in readings if r.family and r.given is None})
    if not families:
        return []
    ranges = [_starts("family_norm", family, table=PatientAlias) for family in families]
    aliases = connection.ops.quote_name(PatientAlias._meta.db_table)
    subquery = (
        f"{_column('id')} IN (SELECT {_column('patient_id', table=PatientAlias)} "  # noqa: S608
        f"FROM {aliases} WHERE {' OR '.join(f'({sql})' for sql, _ in ranges)})"
    )
    return [_branch(_BY_FAMILY, (subquery, [v for _, values in ranges for v in values]))]


def _fetch(patients: QuerySet[Patient], branches: list[_Branch]) -> list[Patient]:
    """Up to SEARCH_LIMIT patients from each branch, in one round trip.

    The ORM compiles the searchable patients once (the policy's clinic and active filters);
    each branch adds its condition, order and limit, and runs as a derived table of one UNION
    ALL, which PostgreSQL and SQLite both accept. Compiling each branch through the ORM cost
    about half a millisecond apiece, more than the index scans themselves."""
    if not branches:
        return []
    query = patients.query
    if query.is_sliced or query.distinct or query.group_by is not None or query.combinator:
        # Conditions are appended to the end of its SQL, which must then be its WHERE clause.
        raise ValueError("search branches need a plain filtered patient queryset")
    try:
        base, base_params = patients.order_by().query.get_compiler(using=patients.db).as_sql()
    except EmptyResultSet:  # a user who may search no patients at all
        return []
    joiner = " AND " if " WHERE " in base else " WHERE "
    parts: list[str] = []
    params: list[object] = []
    for number, branch in enumerate(branches):
        order = ", ".join(_column(name) for name in branch.order)
        # Only ORM-compiled SQL and the fixed SQL above are put together; values are parameters.
        parts.append(
            f"SELECT * FROM ({base}{joiner}({branch.condition}) "  # noqa: S608
            f"ORDER BY {order} LIMIT {SEARCH_LIMIT}) AS branch{number}"
        )
        params.extend([*base_params, *branch.params])
    return list(Patient.objects.raw(" UNION ALL ".join(parts), params))


def _name_rank(patient: Patient, readings: list[_NameQuery], fuzzy_ids: set[int]) -> int:
    """0 = exact family (and given), 1 = exact family, 2 = family prefix, 3 = other prefix
    (given name, previous name), 4 = one typo.

    A family prefix ranks before a given-name prefix: for "tyle", the Tylers' family comes
    before the many patients called Tyler, who used to fill the page alphabetically."""
    if patient.pk in fuzzy_ids:
        return 4
    best = 3
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
        elif reading.family and patient.family_norm.startswith(reading.family):
            best = min(best, 2)
    return best


def patient_search(user: User, raw_query: str) -> tuple[ParsedQuery, list[Patient]]:
    """Up to 20 active patients: exact matches first, then prefixes, then one-typo names.

    Every branch is an index lookup (see patients/indexing.py and the Patient indexes); a name
    search is one query, plus one more when it falls back to one-typo family names. A query
    shaped like a document number also looks it up in the identity documents' unique index;
    those patients come first, as the number names one person. The same number is looked up
    as an insurance member ID (the `coverage_member_id_norm` index), in the same query."""
    parsed = parse_search_query(raw_query)
    patients = (
        _patients_for(user, Action.PATIENT_SEARCH).filter(is_active=True).only(*SEARCH_COLUMNS)
    )
    found = _search(parsed, patients)
    if parsed.document_number and user.clinic_id is not None:
        holders = _number_holders(clinic_id=user.clinic_id, number=parsed.document_number)
        by_document = list(patients.filter(pk__in=holders).order_by(*_NAME_ORDER)[:SEARCH_LIMIT])
        seen = {p.pk for p in by_document}
        found = [*by_document, *(p for p in found if p.pk not in seen)][:SEARCH_LIMIT]
    return parsed, found


def _number_holders(*, clinic_id: int, number: str) -> QuerySet[Any]:
    """The ids of the clinic's patients who hold this identity document or insurance member
    ID. A coverage still on a merged record (merging moves them, so only one written since)
    gives the record kept.

    One UNION subquery, not an OR of three: PostgreSQL answers `id IN (...) OR id IN (...)`
    by walking the clinic's patients in name order, testing each row."""
    documents = IdentityDocument.objects.filter(clinic_id=clinic_id, number=number)
    members = Coverage.objects.filter(member_id_norm=number, patient__clinic_id=clinic_id)
    return (
        documents.order_by()
        .values("patient_id")
        .union(
            members.order_by().values("patient_id"),
            members.filter(patient__merged_into__isnull=False)
            .order_by()
            .values("patient__merged_into_id"),
            all=True,
        )
    )


def _search(parsed: ParsedQuery, patients: QuerySet[Patient]) -> list[Patient]:
    ordered = patients.order_by(*_NAME_ORDER)
    if parsed.mrn:
        return list(patients.filter(mrn=parsed.mrn))
    if parsed.birth_date:
        return list(ordered.filter(birth_date=parsed.birth_date)[:SEARCH_LIMIT])
    if parsed.phone_e164:
        found = ordered.filter(Q(phone=parsed.phone_e164) | Q(phone_alt=parsed.phone_e164))
        return list(found[:SEARCH_LIMIT])
    if parsed.phone_tail:
        found = ordered.filter(
            phone_last4=parsed.phone_tail[-4:], phone__endswith=parsed.phone_tail
        )
        return list(found[:SEARCH_LIMIT])
    readings = _name_queries(parsed)
    if not readings:
        return []
    branches = [branch for reading in readings for branch in _name_branches(reading)]
    found_by_id: dict[int, Patient] = {}
    for patient in _fetch(patients, [*branches, *_alias_branch(readings)]):
        found_by_id.setdefault(patient.pk, patient)
    distance_of: dict[int, int] = {}
    has_exact_family = any(
        r.family and p.family_norm == r.family for p in found_by_id.values() for r in readings
    )
    has_family = any(
        r.family and p.family_norm.startswith(r.family)
        for p in found_by_id.values()
        for r in readings
    )
    room = 0
    if not has_exact_family:
        room = max(0, SEARCH_LIMIT - len(found_by_id))
        if not has_family:
            # Only given names (or other names) start so, and they may fill the page: "michell"
            # finds the Michelles. Keep the last rows for family names one typo away (Mitchell).
            room = max(room, TYPO_ROWS_KEPT)
    if room:
        for distance, patient in _one_typo_family_matches(patients, readings, found_by_id, room):
            found_by_id[patient.pk] = patient
            distance_of[patient.pk] = distance
    fuzzy_ids = set(distance_of)
    results = sorted(
        found_by_id.values(),
        key=lambda p: (
            _name_rank(p, readings, fuzzy_ids),
            distance_of.get(p.pk, 0),
            p.family_norm,
            p.given_norm,
            p.pk,
        ),
    )
    plain = [p for p in results if p.pk not in fuzzy_ids]
    fuzzy = [p for p in results if p.pk in fuzzy_ids]
    return [*plain[: SEARCH_LIMIT - len(fuzzy)], *fuzzy][:SEARCH_LIMIT]


def _one_typo_family_matches(
    patients: QuerySet[Patient],
    readings: list[_NameQuery],
    found: dict[int, Patient],
    room: int,
) -> list[tuple[int, Patient]]:
    """(distance, patient) for up to `room` patients whose family name is one typo from a
    typed one, nearest names first; equally near names take turns, so "smity" shows Smith and
    Smit patients alike rather than 20 of whichever sorts first.

    One scan per name (family_norm = name, in the family index's order): a single IN list with
    a given-name range lets PostgreSQL, which underestimates prefix ranges, read every patient
    with that given name instead ("burnet kris": 6,900 rows, 9 ms)."""
    near = family_names_within_one_typo(r.family for r in readings if r.family)
    distance_of: dict[str, int] = {}
    branches: list[_Branch] = []
    family = _column("family_norm")
    for reading in readings:
        names = near.get(reading.family or "", [])[:_TYPO_NAMES]
        for name, distance in names:
            distance_of[name] = min(distance, distance_of.get(name, distance))
        given = reading.given
        for name, _ in names:
            named = (f"{family} = %s", (name,))
            if given:
                branches.append(_branch(_BY_FAMILY, named, _starts("given_norm", given)))
            else:
                branches.append(_branch(_BY_FAMILY, named))
        if given and names:
            in_names = (f"{family} IN ({', '.join(['%s'] * len(names))})", [n for n, _ in names])
            branches.append(_branch(_BY_PREFERRED, _starts("preferred_norm", given), in_names))
    by_name: dict[str, list[Patient]] = {}
    seen = set(found)
    for patient in _fetch(patients, branches):
        if patient.pk not in seen:
            seen.add(patient.pk)
            by_name.setdefault(patient.family_norm, []).append(patient)
    picked: list[tuple[int, Patient]] = []
    for distance in sorted(set(distance_of.values())):
        queues = [
            sorted(by_name[name], key=lambda p: (p.given_norm, p.birth_date, p.pk))
            for name in sorted(by_name)
            if distance_of.get(name) == distance
        ]
        for turn in range(SEARCH_LIMIT):
            for queue in queues:
                if turn < len(queue) and len(picked) < room:
                    picked.append((distance, queue[turn]))
    return picked


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


def identity_document_holder_id(
    *, clinic_id: int, data: dict[str, Any], excluding_document_id: int | None = None
) -> int | None:
    """The id of the patient who already holds this document (cleaned IdentityDocumentForm
    data) in the clinic, if anyone does: the early, friendly form of the unique index's
    refusal. Callers tell the officer nothing about that patient."""
    documents = IdentityDocument.objects.filter(
        clinic_id=clinic_id,
        number=data["number"],
        kind=data["kind"],
        issuing_country=data["issuing_country"],
        issuing_state=data.get("issuing_state") or "",
    )
    if excluding_document_id is not None:
        documents = documents.exclude(pk=excluding_document_id)
    return documents.values_list("patient_id", flat=True).first()


# Reads for pages, each recording on the patients' access logs what the page shows of them.


def patient_search_for_view(
    user: User, *, context: AuditContext, query: str
) -> tuple[ParsedQuery, list[Patient]]:
    """`patient_search`, audited with its terms and the patients shown (a blank query shows
    no one and is not recorded)."""
    parsed, results = patient_search(user, query)
    if parsed.text:
        audit_record(
            context=context,
            action=AuditAction.SEARCH,
            patient_ids=[p.pk for p in results],
            object_type=AuditObject.PATIENT_SEARCH,
            detail={"terms": parsed.text, "results": len(results)},
        )
    return parsed, results


def patients_shown(
    *,
    context: AuditContext,
    patient_ids: Iterable[int],
    page: AuditObject,
    object_id: str | int = "",
    detail: Mapping[str, Any] | None = None,
    printed: bool = False,
) -> None:
    """A page shows these patients' records (or prints them): a look on their access logs.
    `page` names what was shown (the event's object type)."""
    audit_record(
        context=context,
        action=AuditAction.PRINT if printed else AuditAction.VIEW,
        patient_ids=patient_ids,
        object_type=page,
        object_id=object_id,
        detail=detail,
    )


def chart_for_view(user: User, *, context: AuditContext, patient_id: int) -> Patient:
    """`access_patient` for the patient's chart, recorded as a look at the record."""
    patient = access_patient(user, patient_id)
    patients_shown(
        context=context, patient_ids=[patient.pk], page=AuditObject.PATIENT, object_id=patient.pk
    )
    return patient


@dataclass(frozen=True)
class HouseholdMember:
    """One linked member of a patient's household as the chart shows it: a restricted
    member by MRN only."""

    link: HouseholdLink
    patient: Patient

    @property
    def restricted(self) -> bool:
        return self.patient.confidentiality == Confidentiality.RESTRICTED


def household_links_of(patient: Patient) -> QuerySet[HouseholdLink]:
    """The links naming `patient`, within the patient's clinic."""
    return HouseholdLink.objects.filter(
        Q(patient_low=patient) | Q(patient_high=patient), clinic_id=patient.clinic_id
    ).select_related("patient_low", "patient_high")


def household_for_view(*, context: AuditContext, patient: Patient) -> list[HouseholdMember]:
    """The active members linked to `patient` (the caller has opened the patient), by name.
    Their names and MRNs are on screen: a look on their access logs."""
    members = [
        HouseholdMember(link, link.other(patient.pk)) for link in household_links_of(patient)
    ]
    members = [m for m in members if m.patient.is_active]
    members.sort(key=lambda m: (m.patient.family_name, m.patient.given_name, m.patient.pk))
    if members:
        patients_shown(
            context=context,
            patient_ids=[m.patient.pk for m in members],
            page=AuditObject.HOUSEHOLD,
            object_id=patient.pk,
            detail={
                "shown": [
                    {
                        "patient_id": m.patient.pk,
                        "fields": ["MRN"] if m.restricted else ["Name", "MRN"],
                    }
                    for m in members
                ]
            },
        )
    return members


def access_household_link(patient: Patient, link_id: int) -> HouseholdLink:
    """A link naming `patient` (already opened for the user); any other is not found."""
    link = household_links_of(patient).filter(pk=link_id).first()
    if link is None:
        raise Http404("No such household link")
    return link
