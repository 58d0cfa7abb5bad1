"""`frontdesk import-patients FILE.csv --clinic NAME`: the rules live in patients/importing.py."""

from __future__ import annotations

import argparse
import contextlib
import textwrap
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.clinic.models import Clinic
from frontdesk.lib.csv_safe import csv_writer
from frontdesk.patients import import_columns, importing
from frontdesk.patients.importing import Outcome


def _batch_size(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class Command(BaseCommand):
    help = "\n\n".join(
        [
            textwrap.fill(
                "Import patients from another system's CSV export (UTF-8, the first line naming "
                "the columns). Every row is checked with the rules of the registration page and "
                "against the patient index, the earlier rows of the same file included; rows "
                "with mistakes, and likely patients we already have, are reported by line and "
                "not imported.",
                width=79,
            ),
            "Columns, one field a line (any case; spaces and punctuation count as "
            "underscores):\n" + import_columns.column_help(),
            textwrap.fill(
                "The first filled of phone, mobile, home and work phone becomes the main phone, "
                "the next the other phone. Consent to texts or email is never assumed. More in "
                "the module frontdesk.patients.importing.",
                width=79,
            ),
        ]
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Keep the one-field-a-line column list as written.
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument("--clinic", required=True, help="the clinic's name")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row, duplicates included, then roll everything back",
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=importing.DEFAULT_BATCH_SIZE,
            help="rows per transaction (default %(default)s)",
        )
        parser.add_argument(
            "--report",
            type=Path,
            default=None,
            help="also write what happened to each row to this CSV file",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report_path: Path | None = options["report"]
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic is called {options['clinic']!r}.")
        try:
            source = importing.import_file_inspect(path=path)
        except importing.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        if report_path is not None and report_path.resolve() == path.resolve():
            raise CommandError("The report would overwrite the file being imported; name another.")
        with contextlib.ExitStack() as stack:
            report = None
            if report_path is not None:
                try:
                    # Opened before the import so a wrong path fails before any work is done.
                    report = stack.enter_context(
                        report_path.open("w", encoding="utf-8-sig", newline="")
                    )
                except OSError as exc:
                    raise CommandError(
                        f"Cannot write the report to {report_path}: {exc.strerror or exc}."
                    ) from None
            self._introduce(source, clinic, dry_run=options["dry_run"])
            result = importing.patients_import(
                clinic=clinic,
                source=source,
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                progress=options["verbosity"] > 0,
            )
            for outcome in result.outcomes:
                for message in importing.outcome_messages(outcome):
                    self.stdout.write(f"line {outcome.line}: {message}")
            if report is not None:
                writer = csv_writer(report)
                writer.writerow(importing.REPORT_HEADER)
                writer.writerows(importing.report_rows(result))
        self._summarise(result, report_path)

    def _introduce(self, source: importing.ImportFile, clinic: Clinic, *, dry_run: bool) -> None:
        rows = f"{source.records:,} row{'s' if source.records != 1 else ''}"
        note = " (dry run: nothing will be saved)" if dry_run else ""
        self.stdout.write(f"Importing {rows} from {source.path} into {clinic.name}{note}.")
        if source.ignored:
            self.stdout.write(f"Columns not used: {', '.join(source.ignored)}.")

    def _summarise(self, result: importing.ImportResult, report_path: Path | None) -> None:
        imported = "Would import" if result.dry_run else "Imported"
        figures = [
            ("Rows read", result.rows_read),
            (imported, result.count(Outcome.IMPORTED)),
            ("Invalid", result.count(Outcome.INVALID)),
            ("Possible duplicates", result.count(Outcome.DUPLICATE)),
            ("Not saved (database)", result.count(Outcome.NOT_SAVED)),
        ]
        if result.blank:
            figures.append(("Blank lines skipped", result.blank))
        for label, number in figures:
            self.stdout.write(f"{label + ':':<22}{number:>8,}")
        rate = result.rows_read / result.seconds if result.seconds else 0.0
        self.stdout.write(f"Took {result.seconds:.1f} s ({rate:,.0f} rows/s).")
        if report_path is not None:
            self.stdout.write(f"Report written to {report_path}.")
        if result.dry_run:
            self.stdout.write(
                "Dry run: nothing was saved; every change, audit events included, was rolled back."
            )
