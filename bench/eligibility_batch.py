"""The nightly eligibility batch: 2,000 visits against the payer simulator answering in 200 ms.

    .venv/bin/python bench/eligibility_batch.py
    .venv/bin/python bench/eligibility_batch.py --visits 2000 --latency-ms 200 --concurrency 32
    .venv/bin/python bench/eligibility_batch.py --database-url postgres://postgres@127.0.0.1/frontdesk_bench_eligibility

Goal: the batch's checks for 2,000 visits on the next two business days, against a payer that
takes 200 ms for each answer, are all answered within 60 s with the concurrency bounded
(--concurrency, the connection's own setting), and none is lost or asked twice.

What it does:
- Database: a scratch SQLite file (or the PostgreSQL database named above, emptied), migrated.
- Clinic: one clinic in New York, one payer with a member-ID pattern, --visits patients with
  one coverage each and one visit each on the clinic's next two business days (half each).
  Rows are bulk-inserted, so no check is queued while building (post_save does not run).
- Payer: `frontdesk payer-simulator` in its own process on a free loopback port, with every
  patient in its table and --latency-ms for every answer.
- Batch: `eligibility_batch_queue` (what the nightly task runs), then `eligibility_send_due`
  with --concurrency: the real claim, pyx12 validation of each 270 and 271, the CORE envelope
  over HTTP and the recording of each answer.
- Counted: checks queued, answered, failed and left open (lost), from the database; requests
  the simulator answered and traces it saw twice (duplicated), from its /stats.
- Serial: the same code with concurrency 1 on a sample of --sample further checks, measured
  in this run, scaled to --visits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

GOAL_SECONDS = 60.0
SCRATCH_DB = "frontdesk_bench_eligibility"
SCRATCH_SQLITE = Path(tempfile.gettempdir()) / "frontdesk_bench_eligibility.sqlite3"


def scratch_database(url: str | None) -> tuple[str, Callable[[], None]]:
    if url is None:
        _unlink_sqlite()
        return f"sqlite:///{SCRATCH_SQLITE}", _unlink_sqlite
    parsed = urllib.parse.urlparse(url)
    name = parsed.path.lstrip("/")
    if not parsed.scheme.startswith("postgres") or name != SCRATCH_DB:
        sys.exit(f"The bench empties its database; use the PostgreSQL database {SCRATCH_DB}.")
    common = [
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    subprocess.run(["dropdb", *common, "--if-exists", name], check=True)
    subprocess.run(["createdb", *common, name], check=True)
    return url, lambda: subprocess.run(["dropdb", *common, "--if-exists", name], check=True)


def _unlink_sqlite() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SCRATCH_SQLITE}{suffix}").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - our loopback
        return dict(json.loads(answer.read()))


def _cpu_seconds() -> float:
    own, pool = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + pool.ru_utime + pool.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=f"PostgreSQL: a URL naming {SCRATCH_DB}")
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()

    url, drop = scratch_database(args.database_url)
    var = Path(tempfile.mkdtemp(prefix="frontdesk-bench-elig-"))
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "frontdesk.settings",
            "REDIS_URL": "",
            "DATABASE_POOL_SIZE": "0",
            "LOG_LEVEL": "WARNING",
            "FRONTDESK_VAR_DIR": str(var),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
    from frontdesk.eligibility.models import (
        CheckStatus,
        EligibilityCheck,
        EligibilityConnection,
        TransportKind,
    )
    from frontdesk.eligibility.queueing import eligibility_batch_queue
    from frontdesk.eligibility.sending import eligibility_send_due
    from frontdesk.lib.clinic_time import clinic_zone
    from frontdesk.patients.models import Coverage, Patient, Payer
    from frontdesk.scheduling.business_days import business_days_from
    from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule

    simulator: subprocess.Popen[bytes] | None = None
    try:
        call_command("migrate", verbosity=0)
        now = timezone.now()
        clinic = Clinic.objects.create(name="Bench clinic", time_zone="America/New_York")
        location = Location.objects.create(clinic=clinic, name="Main")
        provider = Provider.objects.create(
            clinic=clinic, given_name="Doc", family_name="Bench", specialty="Family"
        )
        schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
        visit_type = AppointmentType.objects.create(
            clinic=clinic, name="Office visit", duration_minutes=15
        )
        payer = Payer.objects.create(
            clinic=clinic, name="Bench Health", payer_id="BENCH1", member_id_pattern=r"B\d{8}"
        )
        total = args.visits + args.sample
        patients = Patient.objects.bulk_create(
            Patient(
                clinic=clinic,
                mrn=f"B{i:09d}",
                given_name=f"Pat{i}",
                family_name="Bench",
                birth_date=dt.date(1970, 1, 1) + dt.timedelta(days=i % 9000),
                sex="female",
                created_at=now,
                updated_at=now,
            )
            for i in range(total)
        )
        coverages = Coverage.objects.bulk_create(
            Coverage(patient=p, payer=payer, rank=1, member_id=f"B{i:08d}", copay="25.00")
            for i, p in enumerate(patients)
        )
        zone = clinic_zone(clinic)
        days = business_days_from(clinic.pk, now.astimezone(zone).date(), 2)
        visits = []
        for i, patient in enumerate(patients[: args.visits]):
            day = days[i % 2]
            start = dt.datetime.combine(day, dt.time(8), tzinfo=zone) + dt.timedelta(
                minutes=(i // 2) % 600
            )
            visits.append(
                Appointment(
                    clinic=clinic,
                    patient=patient,
                    schedule=schedule,
                    provider=provider,
                    appointment_type=visit_type,
                    start=start,
                    end=start + dt.timedelta(minutes=15),
                    busy_start=start,
                    busy_end=start + dt.timedelta(minutes=15),
                    status=AppointmentStatus.BOOKED,
                    is_overbook=True,
                    overbook_reason="bench",
                    created_at=now,
                    updated_at=now,
                )
            )
        Appointment.objects.bulk_create(visits, batch_size=500)
        table = var / "table.json"
        table.write_text(
            json.dumps(
                {
                    "payer_name": "BENCH HEALTH",
                    "members": [
                        {
                            "member_id": c.member_id,
                            "last_name": "BENCH",
                            "first_name": f"PAT{i}",
                            "birth_date": p.birth_date.strftime("%Y%m%d"),
                        }
                        for i, (c, p) in enumerate(zip(coverages, patients, strict=True))
                    ],
                }
            )
        )
        port = free_port()
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "frontdesk",
                "payer-simulator",
                "--port",
                str(port),
                "--table",
                str(table),
                "--latency-ms",
                str(args.latency_ms),
            ],
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                get_json(f"{base}/health")
                break
            except OSError:
                time.sleep(0.1)
        EligibilityConnection.objects.create(
            clinic=clinic,
            kind=TransportKind.CORE_SOAP,
            url=f"{base}/core",
            is_simulator=True,
            sender_id="BENCH",
            receiver_id="BENCHHEALTH",
            provider_name="Bench clinic",
            provider_npi="1234567893",
            timeout_seconds=10,
            retries=1,
            concurrency=args.concurrency,
        )

        started = time.perf_counter()
        cpu_before = _cpu_seconds()
        queued = eligibility_batch_queue(clinic=clinic, now=timezone.now())
        run = eligibility_send_due(now=timezone.now(), limit=None, concurrency=args.concurrency)
        batch_seconds = time.perf_counter() - started
        cpu_used = _cpu_seconds() - cpu_before
        checks = EligibilityCheck.objects.filter(reason="batch")
        answered = checks.filter(status=CheckStatus.ANSWERED).count()
        failed = checks.filter(status=CheckStatus.FAILED).count()
        lost = checks.exclude(status__in=[CheckStatus.ANSWERED, CheckStatus.FAILED]).count()
        missing = args.visits - checks.values("coverage_id").distinct().count()
        stats = get_json(f"{base}/stats")

        # Serial: the same code, one at a time, on a sample of further coverages.
        from frontdesk.eligibility.models import CheckReason
        from frontdesk.eligibility.queueing import check_request

        sample_ids = []
        for coverage in Coverage.objects.filter(
            pk__in=[c.pk for c in coverages[args.visits :]]
        ).select_related("patient"):
            made = check_request(
                coverage=coverage,
                date_of_service=days[0],
                reason=CheckReason.CHECK_IN,
                now=timezone.now(),
            )
            if made is not None:
                sample_ids.append(made.pk)
        serial_started = time.perf_counter()
        eligibility_send_due(now=timezone.now(), limit=None, concurrency=1, ids=sample_ids)
        per_check = (time.perf_counter() - serial_started) / max(len(sample_ids), 1)
        serial_seconds = per_check * args.visits

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"visits {args.visits}, latency {args.latency_ms} ms, concurrency "
            f"{args.concurrency}, database {connections['default'].vendor}, "
            f"{os.cpu_count()} cores, load average {load} (the machine's other work included)"
        )
        print(
            f"queued {queued}, sent {run.sent}, answered {answered}, failed {failed}, "
            f"left open {lost}, visits without a check {missing}"
        )
        print(
            f"simulator: {stats['requests']} requests, {stats['distinct']} distinct traces, "
            f"{stats['duplicates']} asked twice"
        )
        print(f"CPU used by the batch (this process and its pyx12 pool): {cpu_used:.1f} s")
        print(
            f"batch {batch_seconds:.1f} s; serial {per_check * 1000:.0f} ms a check "
            f"(measured on {len(sample_ids)}) -> {serial_seconds:.0f} s for {args.visits}"
        )
        lost_or_dup = lost + missing + stats["duplicates"] + (queued - args.visits)
        met = batch_seconds <= GOAL_SECONDS and lost_or_dup == 0 and failed == 0
        print(
            f"bench eligibility_batch: {args.visits} checks in {batch_seconds:.1f} s "
            f"({serial_seconds / batch_seconds:.1f}x vs serial {serial_seconds:.0f} s), "
            f"{lost + missing} lost, {stats['duplicates'] + max(queued - args.visits, 0)} "
            f"duplicated; goal <= {GOAL_SECONDS:.0f} s, 0 lost or duplicated: "
            f"{'met' if met else 'missed'}"
        )
    finally:
        if simulator is not None:
            simulator.terminate()
            simulator.wait(timeout=10)
        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
