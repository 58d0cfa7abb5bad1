from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from frontdesk.demo.data import DEFAULT_PATIENTS, DEFAULT_SEED
from frontdesk.demo.inquiries_morning import inquiries_morning
from frontdesk.demo.services import DemoRefusedError, demo_load


def _count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ArgumentTypeError("must be at least 1")
    return number


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError("must be a date like 2025-01-31") from None


class Command(BaseCommand):
    help = (
        "Load the demo clinic: locations, providers, appointment types, payers, one sign-in per "
        "role and synthetic patients, the same for the same seed. Does nothing if it is loaded."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--patients", type=_count, default=DEFAULT_PATIENTS)
        parser.add_argument(
            "--credentials",
            type=Path,
            default=None,
            help="where to write the staff sign-ins (default: VAR_DIR/demo-credentials.txt)",
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            default=None,
            help="date that ages and visits count back from (default: today at the clinic)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["credentials"] or settings.VAR_DIR / "demo-credentials.txt"
        started = time.monotonic()
        try:
            outcome = demo_load(
                seed=options["seed"],
                patients=options["patients"],
                credentials_path=path,
                today=options["as_of"],
                progress=options["verbosity"] > 0,
            )
        except DemoRefusedError as exc:
            raise CommandError(str(exc)) from None
        result = outcome.result
        morning = inquiries_morning(clinic=result.clinic, today=options["as_of"])  # desk queue
        if result.created:
            self.stdout.write(
                f"Built the demo clinic {result.clinic.name!r} from seed {options['seed']}: "
                f"{result.patients:,} patients ({len(result.duplicates):,} planted "
                f"near-duplicates) in {time.monotonic() - started:.1f} s."
            )
        else:
            self.stdout.write(
                f"The demo clinic {result.clinic.name!r} is already loaded "
                f"({result.patients:,} patients); nothing was built."
            )
        if morning.calls:
            self.stdout.write(
                f"Today's calls: {morning.calls}, {morning.questions} medical questions."
            )
        if outcome.credentials_source == "reset":
            self.stdout.write(f"{path} was missing, so the demo staff have new passwords.")
        self.stdout.write(f"Staff sign-ins (role username password), also in {path}:")
        for line in outcome.credentials:
            self.stdout.write(line)
