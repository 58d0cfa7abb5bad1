"""The duplicates report: the pairs `duplicates_scan.py` finds, exported to a file or shown to
supervisors a page at a time, each audited.

Nothing leaves the process before the export is audited: the report is written to a private
temporary file (mode 0600), the audit event is recorded, and only then is the file moved to
its place or copied to standard output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Literal, Protocol

from django.core.paginator import Page, Paginator
from django.db import transaction

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.lib.csv_safe import csv_writer
from frontdesk.patients.duplicates_scan import (
    DEFAULT_KEY_CAP,
    DEFAULT_MIN_KEY_KINDS,
    VERY_LIKELY,
    DuplicatePair,
    ScanStats,
    duplicate_pairs_find,
    duplicate_pairs_scan,
)
from frontdesk.patients.matching.verdict import WARNING_THRESHOLD
from frontdesk.patients.models import Patient

AUDIT_ACTOR: Final = "duplicates report"
AUDIT_OBJECT_TYPE: Final = AuditObject.DUPLICATES_REPORT

ReportFormat = Literal["csv", "json"]
REPORT_FORMATS: Final[tuple[ReportFormat, ...]] = ("csv", "json")
REPORT_COLUMNS: Final = (
    "mrn_a",
    "name_a",
    "birth_date_a",
    "mrn_b",
    "name_b",
    "birth_date_b",
    "score",
    "probability",
    "verdict",
    "reasons",
)


@dataclass
class _ClinicShare:
    """What the report names of one clinic: its own audit event, on its patients' pages."""

    patient_ids: set[int] = dataclasses.field(default_factory=set)
    very_likely: int = 0
    possible: int = 0


class _ReportWriter:
    """Writes pairs as CSV (with a header) or as a JSON list of objects, as they come."""

    def __init__(self, handle: IO[str], fmt: ReportFormat) -> None:
        self.handle = handle
        self.fmt = fmt
        self.patient_ids: set[int] = set()
        self.clinics: dict[int, _ClinicShare] = {}
        self.rows = 0
        if fmt == "csv":
            self.csv = csv_writer(handle, lineterminator="\n")
            self.csv.writerow(REPORT_COLUMNS)
        else:
            handle.write("[")

    def write(self, pair: DuplicatePair) -> None:
        self.patient_ids.update((pair.patient_id_a, pair.patient_id_b))
        share = self.clinics.setdefault(pair.clinic_id, _ClinicShare())
        share.patient_ids.update((pair.patient_id_a, pair.patient_id_b))
        if pair.verdict == VERY_LIKELY:
            share.very_likely += 1
        else:
            share.possible += 1
        row = pair.as_row()
        if self.fmt == "csv":
            self.csv.writerow(row.values())
        else:
            separator = ",\n" if self.rows else "\n"
            self.handle.write(separator + json.dumps(row, ensure_ascii=False))
        self.rows += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.handle.write("\n]\n" if self.rows else "]\n")
        self.handle.flush()


class TextSink(Protocol):
    """Where a report goes when it is not a file: sys.stdout, a command's stdout, a StringIO."""

    def write(self, text: str, /) -> object: ...


@dataclass(frozen=True)
class DuplicatesReport:
    stats: ScanStats
    fmt: ReportFormat
    output: Path | None  # None: written to the given stream
    patient_ids: frozenset[int]


def duplicates_report_context(*, clinic_id: int | None) -> AuditContext:
    return dataclasses.replace(
        SYSTEM_CONTEXT,
        actor_username=AUDIT_ACTOR,
        clinic_id=clinic_id,
        purpose="operations: duplicate record review",
    )


def _export_audit(
    *,
    writer: _ReportWriter,
    stats: ScanStats,
    clinic: Clinic | None,
    fmt: ReportFormat,
    output: Path | None,
    min_score: float,
) -> None:
    """One EXPORT event per clinic whose patients the report names, with links to each of
    them, so the export is on every named patient's access page (that page lists a clinic's
    events only, and a report over every clinic has no one clinic). The report names only the
    patients of its pairs, not every patient scanned, so the links grow with the pairs found
    (two patients a pair at most), not with the index."""
    shares: list[tuple[int | None, _ClinicShare]] = [
        *sorted(writer.clinics.items(), key=lambda item: item[0])
    ] or [(clinic.pk if clinic is not None else None, _ClinicShare())]
    names = dict(
        Clinic.objects.filter(pk__in=[pk for pk, _ in shares if pk is not None]).values_list(
            "pk", "name"
        )
    )
    scan = {
        "format": fmt,
        "output": str(output) if output is not None else "stdout",
        "min_score": round(min_score, 4),
        "patients_scanned": stats.patients,
        "pairs_compared": stats.compared,
        "keys_skipped": stats.keys_skipped,
        "key_cap": stats.key_cap,
        "every_clinic": clinic is None,
    }
    with transaction.atomic():  # every clinic's event, or none and nothing released
        for clinic_id, share in shares:
            audit_record(
                context=duplicates_report_context(clinic_id=clinic_id),
                action=AuditAction.EXPORT,
                patient_ids=share.patient_ids,
                object_type=AUDIT_OBJECT_TYPE,
                detail={
                    **scan,
                    "clinic": names.get(clinic_id) if clinic_id is not None else None,
                    "pairs": share.very_likely + share.possible,
                    "very_likely": share.very_likely,
                    "possible": share.possible,
                    "patients": len(share.patient_ids),
                },
            )


def duplicates_report_export(
    *,
    fmt: ReportFormat,
    output: Path | None,
    stream: TextSink | None = None,
    clinic: Clinic | None = None,
    min_score: float = WARNING_THRESHOLD,
    key_cap: int = DEFAULT_KEY_CAP,
    min_key_kinds: int = DEFAULT_MIN_KEY_KINDS,
    workers: int = 1,
    progress: bool = False,
) -> DuplicatesReport:
    """Scan for duplicate pairs and export them to `output` (a new file, mode 0600) or to
    `stream`, recording first one EXPORT audit event per clinic for every patient named.

    The report is built in a private temporary file; nothing reaches `output` or `stream`
    unless the audit event was recorded.
    """
    if output is None and stream is None:
        raise ValueError("Give an output path or a stream.")
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"Unknown format {fmt!r}.")
    directory = output.resolve().parent if output is not None else None
    # mkstemp creates the file with mode 0600, in the target's directory so the final move is a
    # rename; TemporaryFile (for a stream) is 0600 and has no name at all.
    if directory is not None:
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".duplicates-", suffix=".tmp")
        spool = os.fdopen(fd, "w+", encoding="utf-8", newline="")
    else:
        temp_name = ""
        spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        with spool:
            writer = _ReportWriter(spool, fmt)
            stats = duplicate_pairs_scan(
                on_pair=writer.write,
                clinic_id=clinic.pk if clinic is not None else None,
                min_score=min_score,
                key_cap=key_cap,
                min_key_kinds=min_key_kinds,
                workers=workers,
                progress=progress,
            )
            writer.close()
            _export_audit(
                writer=writer,
                stats=stats,
                clinic=clinic,
                fmt=fmt,
                output=output,
                min_score=min_score,
            )
            if output is not None:
                os.chmod(temp_name, 0o600)
                os.replace(temp_name, output)
                temp_name = ""
            elif stream is not None:
                spool.seek(0)
                while text := spool.read(1 << 16):
                    stream.write(text)
    finally:
        if temp_name:
            Path(temp_name).unlink(missing_ok=True)
    return DuplicatesReport(
        stats=stats, fmt=fmt, output=output, patient_ids=frozenset(writer.patient_ids)
    )


# ---------------------------------------------------------------------------------------------
# The page (supervisors: /patients/duplicates/)

#: Pairs a page shows, most likely first.
PAGE_PAIRS: Final = 50
#: A clinic with more active patients is not scanned while someone waits for the page: every
#: page scans the clinic afresh, and 20,000 demo patients took 6.0 s (3 s of CPU) on this
#: project's 2-core machine under load (bench/duplicates_report.py --patients 20000). The page
#: says so and names the command, which has no such limit.
PAGE_MAX_PATIENTS: Final = 10_000


@dataclass(frozen=True)
class DuplicatesPage:
    """One page of a clinic's duplicates report, or why it was not computed."""

    patients: int  # the clinic's active patients
    too_many: bool  # more than PAGE_MAX_PATIENTS: not scanned
    stats: ScanStats | None = None
    page: Page[DuplicatePair] | None = None


def duplicates_report_show(
    *, context: AuditContext, clinic: Clinic, page_number: str | None
) -> DuplicatesPage:
    """Scan `clinic`'s active patients for likely duplicates and return one page of pairs,
    most likely first, recording first, as the export does, one EXPORT event for the clinic
    naming the patients of the pairs shown (none shown: an event naming no one)."""
    patients = Patient.objects.filter(clinic=clinic, is_active=True).count()
    if patients > PAGE_MAX_PATIENTS:
        return DuplicatesPage(patients=patients, too_many=True)
    pairs, stats = duplicate_pairs_find(clinic_id=clinic.pk)
    pairs.sort(key=lambda pair: (-pair.score, pair.patient_id_a, pair.patient_id_b))
    page = Paginator(pairs, PAGE_PAIRS).get_page(page_number)
    shown: list[DuplicatePair] = list(page.object_list)
    audit_record(
        context=dataclasses.replace(context, purpose="operations: duplicate record review"),
        action=AuditAction.EXPORT,
        patient_ids={pk for pair in shown for pk in (pair.patient_id_a, pair.patient_id_b)},
        object_type=AUDIT_OBJECT_TYPE,
        detail={
            "format": "page",
            "output": "screen",
            "page": page.number,
            "min_score": round(WARNING_THRESHOLD, 4),
            "patients_scanned": stats.patients,
            "pairs_compared": stats.compared,
            "keys_skipped": stats.keys_skipped,
            "key_cap": stats.key_cap,
            "every_clinic": False,
            "clinic": clinic.name,
            "pairs": stats.pairs,
            "very_likely": stats.very_likely,
            "possible": stats.possible,
            "shown": len(shown),
        },
    )
    return DuplicatesPage(patients=patients, too_many=False, stats=stats, page=page)
