"""`frontdesk duplicates`: the likely duplicate pairs of the patient index, as CSV or JSON.

The scan and its blocking live in patients/duplicates_scan.py, the export's audit in
patients/duplicates_report.py.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.clinic.models import Clinic
from frontdesk.patients import duplicates_report, duplicates_scan
from frontdesk.patients.matching.verdict import EXISTING_PATIENT_THRESHOLD, WARNING_THRESHOLD


def _min_score(value: str) -> float:
    try:
        return duplicates_scan.min_score_parse(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be warning, existing or a number") from None


def _at_least(minimum: int) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError("must be a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return number

    return parse


class _Stdout:
    """The command's stdout as a plain stream: Django's wrapper would end every write with a
    newline."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command

    def write(self, text: str, /) -> None:
        self.command.stdout.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Report likely duplicate patients: pairs of active patients of one clinic that the "
        "registration duplicate scorer puts at its warning level or above, each pair once, "
        "with both MRNs, names and birth dates, the score, the verdict and the reasons. "
        "Pairs are found through shared blocking keys (see --max-block, --min-key-kinds). "
        "The report holds PHI: its export is audited, and an --output file is readable by "
        "its owner only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", default=None, help="only this clinic (by name)")
        parser.add_argument("--format", choices=duplicates_report.REPORT_FORMATS, default="csv")
        parser.add_argument(
            "--output", type=Path, default=None, help="write to this file (default: stdout)"
        )
        parser.add_argument(
            "--min-score",
            type=_min_score,
            default=WARNING_THRESHOLD,
            help=(
                "report pairs scoring at least this: warning (the registration warning, "
                f"{WARNING_THRESHOLD:.1f} bits, the default), existing (the 'existing "
                f"patient' level, {EXISTING_PATIENT_THRESHOLD:.1f} bits) or a number of bits"
            ),
        )
        parser.add_argument(
            "--max-block",
            type=_at_least(2),
            default=duplicates_scan.DEFAULT_KEY_CAP,
            help="skip blocking keys shared by more patients than this (default %(default)s)",
        )
        parser.add_argument(
            "--min-key-kinds",
            type=_at_least(1),
            default=duplicates_scan.DEFAULT_MIN_KEY_KINDS,
            help=(
                "compare two patients only if they share keys of this many kinds, such as "
                "birth date and name (default %(default)s; 1 compares every pair sharing a key)"
            ),
        )
        parser.add_argument(
            "--workers",
            type=_at_least(1),
            default=min(os.cpu_count() or 1, 8),
            help="processes to use (default: one per CPU, %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = None
        if options["clinic"] is not None:
            clinic = Clinic.objects.filter(name=options["clinic"]).first()
            if clinic is None:
                raise CommandError(f"No clinic is called {options['clinic']!r}.")
        output: Path | None = options["output"]
        if output is not None:
            if output.is_dir():
                raise CommandError(f"{output} is a directory; name a file.")
            if not output.resolve().parent.is_dir():
                raise CommandError(f"The directory of {output} does not exist.")
        try:
            report = duplicates_report.duplicates_report_export(
                fmt=options["format"],
                output=output,
                stream=None if output is not None else _Stdout(self),
                clinic=clinic,
                min_score=options["min_score"],
                key_cap=options["max_block"],
                min_key_kinds=options["min_key_kinds"],
                workers=options["workers"],
                progress=options["verbosity"] > 0,
            )
        except OSError as exc:
            raise CommandError(f"Cannot write the report: {exc.strerror or exc}.") from None
        stats = report.stats
        summary = (
            f"{stats.pairs:,} pairs ({stats.very_likely:,} very likely the same, "
            f"{stats.possible:,} possible) among {stats.patients:,} patients; "
            f"{stats.compared:,} pairs compared in {stats.seconds:.1f} s."
        )
        skipped = (
            f"{stats.keys_skipped:,} of {stats.keys:,} shared blocking keys were skipped as "
            f"too common (more than {stats.key_cap:,} patients each)."
        )
        where = f" Written to {output}." if output is not None else ""
        # The summary goes to stderr so that standard output stays a clean CSV or JSON file.
        if options["verbosity"] > 0:
            self.stderr.write(summary + where)
            self.stderr.write(skipped)
