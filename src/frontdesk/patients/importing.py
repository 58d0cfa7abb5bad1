"""Importing patients from another system's CSV export (`frontdesk import-patients`).

Each row goes through `RegistrationForm`, the rules of the registration page, and then through
`patient_register`, which runs the duplicate check inside the transaction. Rows are saved in
order, so a row is also checked against the rows of the same file imported before it. A row
with a mistake, or one that is likely a patient we already have, is reported with its line in
the file (the header is line 1) and the other rows go on.

Transactions: short, so the desk keeps working beside an import. Rows are checked with the
form before any transaction opens; then one transaction saves at most `--batch-size` rows
(default 50) and commits as soon as it has held the write lock for `LOCK_BUDGET_SECONDS`,
whichever comes first; a savepoint per row saves a row whole or not at all. On SQLite the import
then pauses `SQLITE_PAUSE_SECONDS`, so desk writers waiting in `busy_timeout` (which poll at
most every 100 ms) get the lock before the next batch takes it. Rows of the file registered in
an earlier transaction are committed, so the duplicate check still finds them. A dry run holds
one transaction for the whole file (so it still finds duplicates within the file) and rolls it
back at the end, audit events included; on SQLite that keeps other writers waiting while it
runs, so run it out of hours there. Running a file again after a crash
reports the rows already imported as possible duplicates instead of registering them twice.

The file: CSV in UTF-8 (a byte-order mark is fine), the first line naming the columns. The
separator is a comma, or a semicolon or tab when the first line has more of those. Lines with
every cell blank are skipped. A line with more filled cells than the header is reported.

Columns are matched ignoring case, and any run of spaces, hyphens or other punctuation counts
as one underscore ("First Name", "first-name" and "FIRST_NAME" are all first_name). Columns
with other names are listed as not used. The accepted names, one field a line with what its
cells may hold, end this text: they are made from `import_columns.COLUMNS`, as the help is.

Up to two phone numbers fit (main and other): the first filled of phone, mobile, home, work
and other phone becomes the main phone, the next the other phone. A blank preferred contact
becomes phone when there is a phone, else mail when there is an address, else email when the
patient agreed to email. Consent to texts or email is never assumed.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import enum
import re
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Final, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import DatabaseError, connection, transaction
from tqdm import tqdm

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.patients.forms import COUNTRIES, RegistrationForm
from frontdesk.patients.import_columns import (
    BY_HEADER,
    KINDED_PHONES,
    REQUIRED_FIELDS,
    column_help,
    column_of,
    field_label,
    header_normalise,
)
from frontdesk.patients.models import (
    Confidentiality,
    ContactChannel,
    GuarantorRelationship,
    Patient,
    PatientAlertKind,
    PhoneKind,
    Sex,
)
from frontdesk.patients.services import DuplicateDecisionRequiredError, patient_register

# Measured with bench/import_beside_desk.py on the 2-core machine (SQLite, file database, 8
# desk writers beside it): a row holds the write lock about 5 ms (duplicate check, insert, audit
# event), so a transaction held it at most 252 ms (2,000 rows in 41 transactions) against
# busy_timeout's 5 s; the time budget bounds a slower machine or a busier disk the same way.
DEFAULT_BATCH_SIZE: Final = 50
LOCK_BUDGET_SECONDS: Final = 0.25
SQLITE_PAUSE_SECONDS: Final = 0.1
IMPORT_ACTOR: Final = "import"


# The docstring ends with the same list as the command's help, so the two cannot disagree.
__doc__ = f"{__doc__}\n{column_help()}\n"


# ---------------------------------------------------------------------------------------------
# The file


class ImportFileError(Exception):
    """The file cannot be imported at all; the message says why in plain words."""


@dataclass(frozen=True)
class ImportFile:
    """A readable CSV file whose header names the columns we need."""

    path: Path
    delimiter: str
    columns: Mapping[int, str]  # cell position → field
    headers: tuple[str, ...]  # as written in the file
    ignored: tuple[str, ...]  # headers we do not use
    records: int  # CSV records after the header, blank ones included


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _first_undecodable_line(path: Path) -> int:
    # A newline byte never occurs inside a multi-byte UTF-8 sequence, so lines decode alone.
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _resolve_columns(headers: list[str]) -> dict[int, str]:
    claimed: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        name = BY_HEADER.get(header_normalise(header))
        if name is not None:
            claimed.setdefault(name, []).append(position)
    sex_columns = claimed.get("sex", [])
    gender = [p for p in sex_columns if header_normalise(headers[p]) == "gender"]
    # Systems with both columns keep sex in one and gender identity in the other.
    if gender and len(sex_columns) > 1 and "gender_identity" not in claimed:
        claimed["sex"] = [p for p in sex_columns if p not in gender]
        claimed["gender_identity"] = gender
    for name, positions in claimed.items():
        if len(positions) > 1:
            quoted = " and ".join(f"“{headers[p]}”" for p in positions)
            raise ImportFileError(
                f"The columns {quoted} both give the {field_label(name).lower()}; keep one of "
                "them (or rename the others) and try again."
            )
    missing = [name for name in REQUIRED_FIELDS if name not in claimed]
    if len(missing) == len(REQUIRED_FIELDS):
        raise ImportFileError(
            "Line 1 must name the columns, and none of its names is a given name, family name "
            "or birth date column. Name them for example first_name, last_name and dob."
        )
    if missing:
        wanted = "; ".join(
            f"{field_label(name).lower()} ({', '.join(column_of(name).names[:3])} …)"
            for name in missing
        )
        raise ImportFileError(f"The file has no column for the {wanted}.")
    return {positions[0]: name for name, positions in claimed.items()}


def import_file_inspect(*, path: Path) -> ImportFile:
    """Check that the file can be read and that its header names the columns we need.

    Reads the whole file once (to find an encoding problem before anything is saved, and to
    count the rows for the progress bar). Raises ImportFileError with a plain message.
    """
    if not path.exists():
        raise ImportFileError(f"There is no file at {path}.")
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder; give the CSV file inside it.")
    try:
        with path.open(encoding="utf-8-sig", newline="") as text:
            first_line = text.readline()
            text.seek(0)
            delimiter = _delimiter(first_line)
            reader = csv.reader(text, delimiter=delimiter)
            headers = _next_record(reader)
            records = 0
            while _next_record(reader) is not None:
                records += 1
    except UnicodeDecodeError:
        line = _first_undecodable_line(path)
        raise ImportFileError(
            f"The file is not UTF-8 text; save it as CSV UTF-8 (the first character that is "
            f"not UTF-8 is on line {line})."
        ) from None
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if headers is None or not any(cell.strip() for cell in headers):
        raise ImportFileError(
            "The file has no header: line 1 must name the columns, for example "
            "first_name,last_name,dob,phone."
        )
    columns = _resolve_columns(headers)
    ignored = tuple(h for p, h in enumerate(headers) if p not in columns and h.strip())
    return ImportFile(
        path=path,
        delimiter=delimiter,
        columns=columns,
        headers=tuple(headers),
        ignored=ignored,
        records=records,
    )


def _next_record(reader: Any) -> list[str] | None:
    """The next record, [] for one the csv module cannot parse (too long a cell)."""
    try:
        return list(next(reader))
    except StopIteration:
        return None
    except csv.Error:
        return []


@dataclass(frozen=True)
class _Record:
    line: int
    cells: list[str]
    error: str = ""


def _records(source: ImportFile) -> Iterator[_Record]:
    with source.path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, delimiter=source.delimiter)
        next(reader)
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _Record(line, [], f"This line cannot be read as CSV ({exc}).")
                continue
            yield _Record(line, cells)


# ---------------------------------------------------------------------------------------------
# One row → registration form data


@dataclass(frozen=True)
class Problem:
    """Why a row was not imported: the field (with the file's column) and the message."""

    label: str  # the form's label, "" for the row as a whole
    column: str  # the header as written in the file, "" when no column gave the field
    message: str

    def __str__(self) -> str:
        if not self.label:
            return self.message
        where = f" (column “{self.column}”)" if self.column else ""
        return f"{self.label}{where}: {self.message}"


def _choices(
    choices: list[tuple[str, str]] | Any, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    table = {}
    for value, label in choices:
        table[str(value).lower()] = str(value)
        table[str(label).lower()] = str(value)
    table.update(extra or {})
    return table


_SEX = _choices(
    Sex.choices,
    {
        "m": Sex.MALE,
        "man": Sex.MALE,
        "f": Sex.FEMALE,
        "woman": Sex.FEMALE,
        "o": Sex.OTHER,
        "x": Sex.OTHER,
        "u": Sex.UNKNOWN,
        "unk": Sex.UNKNOWN,
        "": Sex.UNKNOWN,
    },
)
_PHONE_KIND = _choices(
    PhoneKind.choices,
    {"m": "mobile", "cell": "mobile", "c": "mobile", "h": "home", "w": "work", "business": "work"},
)
_CONTACT = _choices(
    ContactChannel.choices,
    {
        "call": ContactChannel.PHONE,
        "telephone": ContactChannel.PHONE,
        "text": ContactChannel.SMS,
        "texts": ContactChannel.SMS,
        "e-mail": ContactChannel.EMAIL,
        "letter": ContactChannel.MAIL,
        "post": ContactChannel.MAIL,
    },
)
_GUARANTOR = _choices(GuarantorRelationship.choices, {"partner": "spouse", "spouse": "spouse"})
_CONFIDENTIALITY = _choices(Confidentiality.choices)
_COUNTRY = _choices(
    COUNTRIES,
    {"usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US", "uk": "GB"},
)
_ALERT = _choices(PatientAlertKind.choices, {"service animal": "service_animal"})
_CHOICE_TABLES: Final = {
    "sex": _SEX,
    "phone_kind": _PHONE_KIND,
    "phone_alt_kind": _PHONE_KIND,
    "preferred_contact": _CONTACT,
    "guarantor_relationship": _GUARANTOR,
    "confidentiality": _CONFIDENTIALITY,
    "country": _COUNTRY,
}
_TRUE: Final = frozenset({"y", "yes", "true", "t", "1", "x", "on", "checked"})
_FALSE: Final = frozenset({"", "n", "no", "false", "f", "0", "off"})
_BOOLEANS: Final = ("interpreter_needed", "consent_sms", "consent_email")
_MIDNIGHT = re.compile(r"^(\S+)[ T]0?0:00(?::00(?:\.0+)?)?$")
_US_ZIP_SHORT = re.compile(r"(\d{3,4})(-\d{4})?")


def _quoted(value: str) -> str:
    return f"“{value[:40]}{'…' if len(value) > 40 else ''}”"


@dataclass
class _RowData:
    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field → header in the file
    problems: list[Problem] = field(default_factory=list)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(field_label(name), self.sources.get(name, ""), message))


def _row_data(cells: list[str], source: ImportFile) -> _RowData:
    row = _RowData()
    raw: dict[str, str] = {}
    for position, name in source.columns.items():
        raw[name] = cells[position].strip() if position < len(cells) else ""
        row.sources[name] = source.headers[position]
    data = row.data
    for name in RegistrationForm.base_fields:
        if name in raw and name not in _BOOLEANS and name != "alerts":
            data[name] = raw[name]
    for name in _BOOLEANS:
        value = raw.get(name, "").lower()
        if value not in _TRUE | _FALSE:
            row.problem(name, f"Use yes or no here, not {_quoted(raw[name])}.")
        data[name] = value in _TRUE
    for name, table in _CHOICE_TABLES.items():
        if data.get(name):
            data[name] = table.get(data[name].lower(), data[name])
    data["alerts"] = [
        _ALERT.get(part.strip().lower(), part.strip())
        for part in re.split(r"[;|,]", raw.get("alerts", ""))
        if part.strip()
    ]
    if match := _MIDNIGHT.match(data.get("birth_date", "")):
        data["birth_date"] = match.group(1)
    for name, default in (
        ("sex", Sex.UNKNOWN),
        ("country", RegistrationForm.base_fields["country"].initial),
        ("preferred_language", RegistrationForm.base_fields["preferred_language"].initial),
        ("guarantor_relationship", GuarantorRelationship.SELF),
        ("confidentiality", Confidentiality.NORMAL),
    ):
        if not data.get(name):
            data[name] = str(default)
    zip_short = _US_ZIP_SHORT.fullmatch(data.get("postal_code", ""))
    if data["country"] == "US" and zip_short:
        # Spreadsheets read ZIP codes as numbers and drop the leading zeros (02134 → 2134).
        data["postal_code"] = zip_short.group(1).zfill(5) + (zip_short.group(2) or "")
    _phones(row, raw)
    if not data.get("preferred_contact"):
        data["preferred_contact"] = _contact_default(data)
    return row


def _phones(row: _RowData, raw: dict[str, str]) -> None:
    """Fill main and other phone from whichever phone columns the file has."""
    numbers: list[tuple[str, str, str]] = []  # (number, kind, field it came from)
    if raw.get("phone"):
        kind = raw.get("phone_kind", "")
        numbers.append((raw["phone"], _PHONE_KIND.get(kind.lower(), kind) or "mobile", "phone"))
    numbers += [(raw[name], str(kind), name) for name, kind in KINDED_PHONES if raw.get(name)]
    if raw.get("phone_alt"):
        kind = raw.get("phone_alt_kind", "")
        numbers.append(
            (raw["phone_alt"], _PHONE_KIND.get(kind.lower(), kind) or "home", "phone_alt")
        )
    distinct: list[tuple[str, str, str]] = []
    for found in numbers:
        digits = re.sub(r"\D", "", found[0])
        if not digits or all(re.sub(r"\D", "", seen[0]) != digits for seen in distinct):
            distinct.append(found)
    data, sources = row.data, row.sources
    data["phone"], data["phone_kind"] = ("", "mobile")
    data["phone_alt"], data["phone_alt_kind"] = ("", "")
    for slot, (number, kind, origin) in zip(("phone", "phone_alt"), distinct, strict=False):
        data[slot], data[f"{slot}_kind"] = number, kind
        if origin in sources:
            sources[slot] = sources[origin]
    if len(distinct) > 2:
        extra = distinct[2][2]
        row.problem(
            extra,
            f"Only two phone numbers fit (main and other) and this row has {len(distinct)}; "
            "leave the others blank.",
        )


def _contact_default(data: Mapping[str, Any]) -> str:
    if data.get("phone"):
        return ContactChannel.PHONE
    if data.get("address_line1"):
        return ContactChannel.MAIL
    if data.get("email") and data.get("consent_email"):
        return ContactChannel.EMAIL
    # No way to reach the patient: the form says so in its own words.
    return ContactChannel.PHONE


def _accepted_values(name: str, form_field: forms.Field) -> str:
    if name == "sex":
        return "M (male), F (female), O (other) or U (unknown)"
    choices = cast("list[tuple[str, str]]", getattr(form_field, "choices", []))
    return ", ".join(str(value) for value, _label in choices if value)


_INVALID_CHOICE: Final = {
    name: f"“%(value)s” is not one of the values accepted here: {_accepted_values(name, f)}."
    for name, f in RegistrationForm.base_fields.items()
    if isinstance(f, forms.ChoiceField)
}


def registration_form_for_import(data: Mapping[str, Any]) -> RegistrationForm:
    """RegistrationForm whose wrong-choice messages name the values a file may use."""
    form = RegistrationForm(data=data, address_parts_asked=False)
    for name, message in _INVALID_CHOICE.items():
        form.fields[name].error_messages["invalid_choice"] = message
    return form


def _form_problems(form: RegistrationForm, row: _RowData) -> list[Problem]:
    problems = []
    for name, errors in form.errors.items():
        label = "" if name == NON_FIELD_ERRORS else str(form.fields[name].label)
        problems += [Problem(label, row.sources.get(name, ""), str(e)) for e in errors]
    return problems


# ---------------------------------------------------------------------------------------------
# The import


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    INVALID = "invalid"
    DUPLICATE = "possible duplicate"
    NOT_SAVED = "not saved"


@dataclass(frozen=True)
class RowOutcome:
    line: int
    outcome: Outcome
    mrn: str = ""  # the new patient's MRN; blank in a dry run, where none is kept
    problems: tuple[Problem, ...] = ()
    duplicate_of: tuple[str, ...] = ()  # "MRN 10000017" or "line 3 of this file"


@dataclass
class ImportResult:
    dry_run: bool
    outcomes: list[RowOutcome] = field(default_factory=list)
    blank: int = 0
    seconds: float = 0.0
    # Rows saved or refused by each write transaction, and the longest time one was open.
    rows_per_transaction: list[int] = field(default_factory=list)
    longest_transaction_seconds: float = 0.0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def rows_read(self) -> int:
        return len(self.outcomes)


def import_audit_context(*, clinic: Clinic, path: Path) -> AuditContext:
    """The system acting for an import: actor "import", purpose naming the file."""
    return dataclasses.replace(
        SYSTEM_CONTEXT,
        actor_username=IMPORT_ACTOR,
        clinic_id=clinic.pk,
        purpose=f"data migration from {path}",
    )


@dataclass
class _ImportRun:
    """One import: the file, the clinic, the audit context and the patients it registered."""

    source: ImportFile
    clinic: Clinic
    context: AuditContext
    dry_run: bool
    # Patients registered by this run → their line, so a duplicate of one names the line.
    lines_by_patient: dict[int, int] = field(default_factory=dict)


def patients_import(
    *,
    clinic: Clinic,
    source: ImportFile,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lock_budget_seconds: float = LOCK_BUDGET_SECONDS,
    pause_seconds: float | None = None,
    progress: bool = False,
) -> ImportResult:
    """Register every good row of `source` at `clinic`, and say what happened to each row.

    A transaction saves at most `batch_size` rows and commits once it has been open
    `lock_budget_seconds`; each row is a savepoint in it. Between transactions the import
    pauses `pause_seconds` (default: SQLITE_PAUSE_SECONDS on SQLite, none on PostgreSQL). With
    `dry_run` everything, audit events included, is rolled back at the end.
    """
    if pause_seconds is None:
        pause_seconds = SQLITE_PAUSE_SECONDS if connection.vendor == "sqlite" else 0.0
    started = time.monotonic()
    run = _ImportRun(source, clinic, import_audit_context(clinic=clinic, path=source.path), dry_run)
    result = ImportResult(dry_run=dry_run)
    records = _records(source)
    whole_run = transaction.atomic() if dry_run else contextlib.nullcontext()
    with (
        whole_run,
        tqdm(
            total=source.records,
            unit=" rows",
            file=sys.stderr,
            disable=not progress,
            smoothing=0.1,
        ) as bar,
    ):
        statistics = _PlannerStatistics()
        while batch := list(islice(records, batch_size)):
            # Checked before the transaction: the form's rules need no lock.
            checked = [_row_check(run, record) for record in batch]
            done = 0
            while done < len(checked):
                if pause_seconds and result.rows_per_transaction and not dry_run:
                    # Let writers waiting in busy_timeout take the lock (see the module's doc).
                    time.sleep(pause_seconds)
                opened, first = time.monotonic(), done
                with transaction.atomic():
                    for record, outcome in checked[done:]:
                        done += 1
                        if record is None:
                            result.blank += 1
                        elif isinstance(outcome, RowOutcome):
                            result.outcomes.append(outcome)
                        else:
                            result.outcomes.append(_row_save(run, record.line, outcome))
                        bar.update(1)
                        if time.monotonic() - opened >= lock_budget_seconds:
                            break
                held = time.monotonic() - opened
                result.rows_per_transaction.append(done - first)
                result.longest_transaction_seconds = max(result.longest_transaction_seconds, held)
            statistics.refresh_if_grown(len(run.lines_by_patient))
        with transaction.atomic():
            audit_record(
                context=run.context,
                action=AuditAction.SYSTEM,
                object_type=AuditObject.PATIENT_IMPORT,
                detail={
                    "file": str(source.path),
                    "dry_run": dry_run,
                    "rows_read": result.rows_read,
                    **{o.name.lower(): result.count(o) for o in Outcome},
                },
            )
        if dry_run:
            transaction.set_rollback(True)
    result.seconds = time.monotonic() - started
    return result


class _PlannerStatistics:
    """Keeps the query planner's statistics of the patient table in step while an import
    fills it.

    Without them SQLite answers the duplicate check by walking the clinic_id index, every
    patient of the clinic for every row, so an import into an empty clinic takes time in n
    squared; with them it takes the OR of the blocking indexes, a few rows each. PostgreSQL's
    manual advises the same after a bulk load. They are refreshed at the start and whenever the
    table has grown by a tenth (at least 100 rows) since, so O(log n) times in a run.
    """

    def __init__(self) -> None:
        self.rows = self._refresh()
        self.imported = 0

    @staticmethod
    def _refresh() -> int:
        table = connection.ops.quote_name(Patient._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # Sample at most this many entries per index: milliseconds on any table size.
                cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute(f"ANALYZE {table}")
        return Patient.objects.count()

    def refresh_if_grown(self, imported: int) -> None:
        if imported - self.imported >= max(100, self.rows // 10):
            self.rows, self.imported = self._refresh(), imported


def _row_check(
    run: _ImportRun, record: _Record
) -> tuple[_Record | None, RowOutcome | RegistrationForm]:
    """A blank line (None), a row refused (its outcome), or a row to save (its valid form)."""
    if not record.error and not any(cell.strip() for cell in record.cells):
        return None, RowOutcome(record.line, Outcome.INVALID)
    line = record.line
    if record.error:
        return record, RowOutcome(line, Outcome.INVALID, problems=(Problem("", "", record.error),))
    extra = [cell for cell in record.cells[len(run.source.headers) :] if cell.strip()]
    if extra:
        message = (
            f"This line has {len(run.source.headers) + len(extra)} filled cells but the header "
            f"names {len(run.source.headers)} columns; a value with a "
            f"{'comma' if run.source.delimiter == ',' else 'separator'} in it must be in "
            "double quotes."
        )
        return record, RowOutcome(line, Outcome.INVALID, problems=(Problem("", "", message),))
    row = _row_data(record.cells, run.source)
    form = registration_form_for_import(row.data)
    form.is_valid()
    problems = [*row.problems, *_form_problems(form, row)]
    if problems:
        return record, RowOutcome(line, Outcome.INVALID, problems=tuple(problems))
    return record, form


def _row_save(run: _ImportRun, line: int, form: RegistrationForm) -> RowOutcome:
    try:
        with transaction.atomic():
            # The old system's address was not confirmed with the patient by us.
            patient = patient_register(
                context=run.context,
                clinic=run.clinic,
                data=form.cleaned_data,
                address_confirmed=False,
            )
    except DuplicateDecisionRequiredError as exc:
        return _duplicate(run, line, exc)
    except DatabaseError as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        message = f"The database refused this row, so nothing of it was saved ({reason})."
        return RowOutcome(line, Outcome.NOT_SAVED, problems=(Problem("", "", message),))
    run.lines_by_patient[patient.pk] = line
    return RowOutcome(line, Outcome.IMPORTED, mrn="" if run.dry_run else patient.mrn)


def _duplicate(run: _ImportRun, line: int, exc: DuplicateDecisionRequiredError) -> RowOutcome:
    candidates = exc.candidates
    # The report ties a line of the file to existing records: that is a look at them.
    audit_record(
        context=run.context,
        action=AuditAction.VIEW,
        patient_ids=[c.patient.pk for c in candidates],
        object_type=AuditObject.DUPLICATE_CHECK,
        detail={"import_line": line, "scores": [round(c.result.score, 2) for c in candidates]},
    )
    names = []
    for candidate in candidates[:3]:
        earlier = run.lines_by_patient.get(candidate.patient.pk)
        if earlier is None:
            names.append(f"MRN {candidate.patient.mrn}")
        elif run.dry_run:
            names.append(f"line {earlier} of this file")
        else:
            names.append(f"line {earlier} of this file (MRN {candidate.patient.mrn})")
    return RowOutcome(line, Outcome.DUPLICATE, duplicate_of=tuple(names))


def outcome_messages(outcome: RowOutcome) -> list[str]:
    """What to tell the person running the import about one row (nothing when imported)."""
    if outcome.outcome == Outcome.DUPLICATE:
        return [f"possible duplicate of {' or '.join(outcome.duplicate_of)}; not imported."]
    return [str(problem) for problem in outcome.problems]


REPORT_HEADER: Final = ("line", "outcome", "mrn", "field", "column", "problem")


def report_rows(result: ImportResult) -> Iterator[tuple[str, ...]]:
    """Rows of the CSV report: one a problem, and one for each imported row with its MRN."""
    for outcome in result.outcomes:
        line = str(outcome.line)
        if outcome.outcome == Outcome.IMPORTED:
            label = "would be imported" if result.dry_run else "imported"
            yield (line, label, outcome.mrn, "", "", "")
        elif outcome.outcome == Outcome.DUPLICATE:
            (message,) = outcome_messages(outcome)
            yield (line, str(outcome.outcome), "", "", "", message)
        else:
            for problem in outcome.problems:
                yield (
                    line,
                    str(outcome.outcome),
                    "",
                    problem.label,
                    problem.column,
                    problem.message,
                )
