"""A patient import on SQLite beside eight desk writers: no "database is locked" for the desk.

    .venv/bin/python bench/import_beside_desk.py
    .venv/bin/python bench/import_beside_desk.py --rows 3000 --desks 8

Goal (from the fault-injection review): `frontdesk import-patients` running beside 8 desk
writers gave 19-29 "database is locked" errors; an import must commit in short transactions
so that no desk write waits out `busy_timeout` (5 s). Goal: 0 locked errors.

What it does:

- Database: a fresh SQLite file in a temporary directory (WAL, IMMEDIATE transactions and
  busy_timeout=5000, as settings.py configures it), migrated here, deleted at the end.
- Import: a CSV of --rows made-up, distinct people through `importing.patients_import`, in
  this process's main thread, with the shipped defaults (batch size, lock budget, pause).
- Desk: --desks processes, each with its own connection, writing while the import runs, as the
  desk does: register a new patient (`patient_register`, duplicate check included) and record
  a find-a-time look (`audit_record`, which every find-a-time writes), one after the other with
  --think-ms between. A write that fails with "database is locked" is counted; so is its
  wait. A registration refused as a likely duplicate is an answer, not an error.
- Baseline: the same, importing into a second clinic with long transactions: the whole file
  in one (`--baseline-batch 0`, the default; 500 was the import's batch before), no time
  budget, no pause. Kinder than the import was: its rows are checked with the form before the
  transaction, where the old import checked them while holding the lock.
- The line at the end: locked errors with the shipped import, the ratio to the baseline's
  locked errors, and whether the goal (0) is met. The longest write transaction of each
  import and the desk's longest wait are printed too: the shipped import's longest transaction
  should be a small fraction of busy_timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import datetime as dt
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_SECONDS = 5.0


def _people(count: int, tag: str) -> list[list[str]]:
    given = ["Amara", "Bogdan", "Chiara", "Dmitri", "Eilidh", "Farid", "Greta", "Hiroshi"]
    family = ["Abara", "Brennan", "Castillo", "Dvorak", "Eriksen", "Fontaine", "Galloway"]
    first = dt.date(1930, 1, 1)
    return [
        [
            given[i % len(given)],
            f"{family[(i // len(given)) % len(family)]}{tag}{'abcdefghij'[i % 10]}",
            (first + dt.timedelta(days=11 * i)).isoformat(),
            "F" if i % 2 else "M",
            f"{i + 1} {family[i % len(family)]} Road",
            "02134",
        ]
        for i in range(count)
    ]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["first_name", "last_name", "dob", "sex", "address", "zip"])
        writer.writerows(rows)
    return path


def _letters(number: int) -> str:
    """A number spelt in letters (a name holds no digits): 0 → a, 27 → bb."""
    digits = "abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 26)
        text = digits[rest] + text
        if not number:
            return text


class Desk:
    """One desk: its own process and connection, as each desk's requests are in the server."""

    def __init__(self, number: int, clinic_id: int, think: float) -> None:
        self.number, self.clinic_id, self.think = number, clinic_id, think

    def run(self, stop: Any, results: Any) -> None:
        from django.db import OperationalError, connection

        from frontdesk.clinic.models import Clinic

        self.clinic = Clinic.objects.get(pk=self.clinic_id)
        writes = locked = other = 0
        longest = 0.0
        person = 0
        while not stop.is_set():
            for write in (self._register, self._look):
                started = time.monotonic()
                try:
                    write(person)
                    writes += 1
                except OperationalError as exc:
                    if "locked" in str(exc):
                        locked += 1
                    else:
                        other += 1
                except Exception as exc:
                    other += 1
                    print(f"desk {self.number}: {type(exc).__name__}: {exc}", file=sys.stderr)
                longest = max(longest, time.monotonic() - started)
                person += 1
                time.sleep(self.think)
        connection.close()
        results.put((writes, locked, other, longest))

    def _register(self, person: int) -> None:
        from frontdesk.audit.services import SYSTEM_CONTEXT
        from frontdesk.patients import importing
        from frontdesk.patients.services import DuplicateDecisionRequiredError, patient_register

        form = importing.registration_form_for_import(
            {
                "given_name": "Walk",
                "family_name": f"Indesk{_letters(self.number)}x{_letters(person)}",
                "birth_date": "01/02/1977",
                "sex": "female",
                "address_line1": f"{person} Desk Street",
                "postal_code": "02134",
                "country": "US",
                "preferred_contact": "mail",
                "confidentiality": "normal",
                "guarantor_relationship": "self",
                "phone_kind": "mobile",
            }
        )
        if not form.is_valid():
            raise ValueError(f"The desk registration is invalid: {form.errors.as_text()}")
        context = dataclasses.replace(SYSTEM_CONTEXT, clinic_id=self.clinic.pk)
        # A likely duplicate is an answer the officer reads, not an error.
        with contextlib.suppress(DuplicateDecisionRequiredError):
            patient_register(
                context=context, clinic=self.clinic, data=form.cleaned_data, address_confirmed=True
            )

    def _look(self, person: int) -> None:
        from django.db import transaction

        from frontdesk.audit.models import AuditAction
        from frontdesk.audit.services import SYSTEM_CONTEXT, audit_record

        with transaction.atomic():
            audit_record(context=SYSTEM_CONTEXT, action=AuditAction.VIEW, object_type="find_time")


def _run(
    label: str, clinic: Any, path: Path, desks: int, think: float, **import_options: Any
) -> dict[str, Any]:
    from django.db import connections

    from frontdesk.patients import importing

    source = importing.import_file_inspect(path=path)
    # Desks are processes, not threads: one process's garbage collector must never reset
    # another thread's SQLite statement while that thread waits in busy_timeout (a deadlock
    # in CPython's sqlite3 that has nothing to do with Frontdesk).
    fork = multiprocessing.get_context("fork")
    stop, results = fork.Event(), fork.Queue()
    connections.close_all()  # each process opens its own
    workers = [
        fork.Process(target=Desk(n, clinic.pk, think).run, args=(stop, results))
        for n in range(desks)
    ]
    for worker in workers:
        worker.start()
    started = time.monotonic()
    result = importing.patients_import(clinic=clinic, source=source, **import_options)
    seconds = time.monotonic() - started
    stop.set()
    answers = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    figures = {
        "locked": sum(a[1] for a in answers),
        "other": sum(a[2] for a in answers),
        "writes": sum(a[0] for a in answers),
        "wait": max(a[3] for a in answers),
        "held": result.longest_transaction_seconds,
        "transactions": len(result.rows_per_transaction),
        "imported": result.count(importing.Outcome.IMPORTED),
        "seconds": seconds,
    }
    print(
        f"{label}: imported {figures['imported']:,} of {source.records:,} rows in "
        f"{seconds:.1f} s, {figures['transactions']} transactions, longest held "
        f"{figures['held'] * 1000:.0f} ms; desk: {figures['writes']:,} writes, "
        f"{figures['locked']} locked, {figures['other']} other errors, longest wait "
        f"{figures['wait'] * 1000:.0f} ms"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--desks", type=int, default=8)
    parser.add_argument("--think-ms", type=int, default=50)
    # 0: the whole file in one transaction; 500 was the import's own batch before.
    parser.add_argument("--baseline-batch", type=int, default=0)
    parser.add_argument("--skip-baseline", action="store_true")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-import-") as scratch:
        directory = Path(scratch)
        os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'frontdesk.sqlite3'}"
        os.environ["FRONTDESK_VAR_DIR"] = str(directory)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
        import django

        django.setup()
        from django.core.management import call_command

        from frontdesk.clinic.models import Clinic
        from frontdesk.patients import importing

        call_command("migrate", verbosity=0)
        desk_clinic = Clinic.objects.create(name="Desk clinic")
        think = arguments.think_ms / 1000
        shipped = _run(
            "shipped import",
            desk_clinic,
            _write_csv(directory / "shipped.csv", _people(arguments.rows, "s")),
            arguments.desks,
            think,
        )
        baseline: dict[str, Any] | None = None
        if not arguments.skip_baseline:
            rows = arguments.baseline_batch or arguments.rows
            baseline = _run(
                f"baseline ({rows} rows a transaction)",
                Clinic.objects.create(name="Baseline clinic"),
                _write_csv(directory / "baseline.csv", _people(arguments.rows, "b")),
                arguments.desks,
                think,
                batch_size=rows,
                lock_budget_seconds=float("inf"),
                pause_seconds=0.0,
            )
        print(
            f"shipped defaults: {importing.DEFAULT_BATCH_SIZE} rows or "
            f"{importing.LOCK_BUDGET_SECONDS * 1000:.0f} ms a transaction, "
            f"{importing.SQLITE_PAUSE_SECONDS * 1000:.0f} ms pause; busy_timeout "
            f"{BUSY_TIMEOUT_SECONDS:.0f} s"
        )
        from django.db import connections

        connections.close_all()

    locked = shipped["locked"]
    if baseline is None:
        ratio = "no baseline run"
    elif baseline["locked"]:
        ratio = f"{locked / baseline['locked']:.2f}x vs baseline {baseline['locked']} locked errors"
    else:
        ratio = "baseline also 0 locked errors"
    met = "met" if locked == 0 and shipped["other"] == 0 else "missed"
    print(
        f"bench import_beside_desk: {locked} locked errors ({ratio}); goal 0 locked errors: {met}"
    )


if __name__ == "__main__":
    main()
