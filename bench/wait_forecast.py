"""Wait-time forecast against the naive estimate, over 30 simulated clinic days.

    .venv/bin/python bench/wait_forecast.py                  # SQLite, a scratch file under /tmp
    .venv/bin/python bench/wait_forecast.py --database-url postgres://postgres@127.0.0.1:5432/frontdesk_bench_wait

Goal (from the issue): the mean absolute error of the forecast told at check-in is at most
50 % of the error of the naive estimate most systems show, "scheduled start minus now".

What it does:

- Database: a scratch one, created, migrated, filled and dropped at the end (--keep keeps it).
- Clinic: three providers, each with a morning session 09:00-12:30 of back-to-back bookings
  of 15-, 20- and 30-minute types, on 30 consecutive weekdays.
- Patients (seeded): 8 % never come; the rest arrive 25 to 0 minutes early or up to 10
  minutes late (1 in 8 comes 15 to 35 minutes late); two walk-ins per provider a day at random
  times, of whom 1 in 4 is urgent and 1 in 8 an emergency (with a reason; they go first, ahead
  of patients already told their wait). Each provider has a pace for the day (log-normal
  around 1.05 times the booked duration) and each visit varies around it (log-normal, sigma
  0.25).
- Every event goes through the real services with its simulated time: check-in
  (`appointment_check_in`, `walk_in_check_in`, which store the forecast told to the patient),
  call (`queue_entry_move` in the order `queue_call_next` uses), in room, with provider,
  done. A provider takes the next patient in the queue when free. On 70 % of provider-days
  the provider waits for that patient's booked time; on the other 30 % they take a patient
  who arrived early at once (a walk-in has no booked time). The forecast is not told which
  kind of day it is; it has to learn it from today's calls.
- Actual wait: check-in to being called. Naive: booked start minus check-in time (never
  below zero). A walk-in has no booked start; the naive figure for them is 0 ("you will be
  seen now"), which is what a system that only knows the schedule can say.
- The headline ratio is over all patients seen (booked and walk-ins); the booked-only ratio
  is printed next to it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SCRATCH_DB = "frontdesk_bench_wait"
SCRATCH_SQLITE = Path(tempfile.gettempdir()) / "frontdesk_bench_wait.sqlite3"
GOAL_RATIO = 0.5
ZONE = zoneinfo.ZoneInfo("America/New_York")
FIRST_DAY = dt.date(2026, 9, 7)
SESSION = (dt.time(9, 0), dt.time(12, 30))
TYPES = [("Short visit", 15), ("Follow-up visit", 20), ("Long visit", 30)]


def scratch_database(url: str | None) -> tuple[str, Callable[[], None]]:
    """The DATABASE_URL to use and how to drop it; refuses anything but a scratch database."""
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
    return url, lambda: _drop(common, name)


def _drop(common: list[str], name: str) -> None:
    subprocess.run(["dropdb", *common, "--if-exists", name], check=True)


def _unlink_sqlite() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SCRATCH_SQLITE}{suffix}").unlink(missing_ok=True)


def local(day: dt.date, minute: float) -> dt.datetime:
    """`minute` minutes after midnight of the clinic-local `day`, in UTC."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=ZONE)
    return (midnight + dt.timedelta(minutes=minute)).astimezone(dt.UTC)


def lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return mean * math.exp(rng.gauss(-sigma * sigma / 2, sigma))


@dataclass
class Arrival:
    minute: float
    provider: int
    appointment: Any | None  # None: a walk-in
    booked_minutes: int
    priority: str = "normal"


@dataclass
class Outcome:
    told: int
    actual: float
    naive: float
    walk_in: bool
    early_day: bool  # the provider took early arrivals before their booked time that day
    urgent: bool


def mean(values: Any) -> float:
    items = list(values)
    return sum(items) / max(1, len(items))


def mae(outcomes: list[Outcome], *, told: bool) -> float:
    return mean(abs((o.told if told else o.naive) - o.actual) for o in outcomes)


def ratio_of(outcomes: list[Outcome]) -> float:
    naive = mae(outcomes, told=False)
    return mae(outcomes, told=True) / naive if naive else math.inf


def make_patient(clinic: Any, given_name: str) -> Any:
    """A patient with the fields the index derives (the simulation needs nothing else)."""
    from django.db import transaction
    from django.utils import timezone

    from frontdesk.patients.indexing import patient_derive_fields
    from frontdesk.patients.models import Patient
    from frontdesk.patients.mrn import mrn_reserve

    with transaction.atomic():
        (mrn,) = mrn_reserve(1)
        patient = Patient(
            clinic=clinic,
            mrn=mrn,
            given_name=given_name,
            family_name="Simulated",
            birth_date=dt.date(1980, 1, 2),
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
        patient_derive_fields(patient).save(force_insert=True)
    return patient


def simulate_day(
    rng: random.Random, day: dt.date, setup: dict[str, Any], outcomes: list[Outcome]
) -> None:
    from django.utils import timezone

    from frontdesk.audit.services import SYSTEM_CONTEXT
    from frontdesk.flow import services
    from frontdesk.flow.models import FlowStatus, Priority, QueueEntry
    from frontdesk.scheduling.models import Appointment

    clinic, user, schedules, types = (
        setup["clinic"],
        setup["user"],
        setup["schedules"],
        setup["types"],
    )
    start_min = SESSION[0].hour * 60 + SESSION[0].minute
    end_min = SESSION[1].hour * 60 + SESSION[1].minute
    arrivals: list[Arrival] = []
    for index, schedule in enumerate(schedules):
        minute = start_min
        while True:
            kind = rng.choice(types)
            if minute + kind.duration_minutes > end_min:
                break
            start = local(day, minute)
            end = start + dt.timedelta(minutes=kind.duration_minutes)
            appointment = Appointment.objects.create(
                clinic=clinic,
                patient=make_patient(clinic, given_name=f"P{day:%m%d}{index}{minute}"),
                schedule=schedule,
                provider=schedule.provider,
                appointment_type=kind,
                start=start,
                end=end,
                busy_start=start,
                busy_end=end,
                created_at=timezone.now(),
                updated_at=timezone.now(),
            )
            if rng.random() >= 0.08:
                offset = rng.uniform(15, 35) if rng.random() < 0.125 else rng.uniform(-25, 10)
                arrivals.append(Arrival(minute + offset, index, appointment, kind.duration_minutes))
            minute += kind.duration_minutes
        for _ in range(2):
            draw = rng.random()
            priority = "emergency" if draw < 0.125 else "urgent" if draw < 0.375 else "normal"
            arrivals.append(
                Arrival(rng.uniform(start_min, end_min - 30), index, None, 15, priority)
            )
    arrivals.sort(key=lambda a: a.minute)
    pace = [lognormal(rng, 1.05, 0.15) for _ in schedules]
    # Some days a provider sees a patient who came early at once instead of at the booked time.
    takes_early = [rng.random() < 0.3 for _ in schedules]
    free_at = [float(start_min)] * len(schedules)
    busy: list[tuple[Any, float] | None] = [None] * len(schedules)
    checked_in: dict[int, tuple[float, Arrival]] = {}
    queues: dict[int, Any] = {}
    pending = list(arrivals)
    minute = float(start_min - 30)
    while (
        pending
        or any(busy)
        or any(
            QueueEntry.objects.filter(day=day, queue_id=q, status=FlowStatus.WAITING).exists()
            for q in queues.values()
        )
    ):
        now = local(day, minute)
        while pending and pending[0].minute <= minute:
            arrival = pending.pop(0)
            if arrival.appointment is not None:
                entry = services.appointment_check_in(
                    context=SYSTEM_CONTEXT, user=user, appointment=arrival.appointment, now=now
                )
            else:
                queue = services.queue_for_provider(
                    clinic=clinic, provider=schedules[arrival.provider].provider
                )
                entry = services.walk_in_check_in(
                    context=SYSTEM_CONTEXT,
                    user=user,
                    patient=make_patient(clinic, given_name=f"W{day:%m%d}{len(checked_in)}"),
                    queue=queue,
                    priority=Priority(arrival.priority),
                    priority_reason="" if arrival.priority == "normal" else "short of breath",
                    now=now,
                )
            queues[arrival.provider] = entry.queue_id
            checked_in[entry.pk] = (minute, arrival)
        for index in range(len(schedules)):
            current = busy[index]
            if current is not None and current[1] <= minute:
                services.queue_entry_move(
                    context=SYSTEM_CONTEXT, user=None, entry=current[0], to=FlowStatus.DONE, now=now
                )
                busy[index] = None
                free_at[index] = minute
            if busy[index] is not None or index not in queues:
                continue
            candidate = (
                QueueEntry.objects.filter(queue_id=queues[index], status=FlowStatus.WAITING)
                .select_related("appointment")
                .order_by("priority_rank", "checked_in_at", "pk")
                .first()
            )
            if candidate is None:
                continue
            early = candidate.appointment is not None and candidate.appointment.start > now
            if early and not takes_early[index]:
                continue  # not before the booked time
            arrived, arrival = checked_in[candidate.pk]
            entry = services.queue_entry_move(
                context=SYSTEM_CONTEXT,
                user=None,
                entry=candidate,
                to=FlowStatus.CALLED,
                expected=FlowStatus.WAITING,
                now=now,
            )
            entry = services.queue_entry_move(
                context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.IN_ROOM, now=now
            )
            service = arrival.booked_minutes * lognormal(rng, pace[index], 0.25)
            busy[index] = (entry, minute + max(3.0, service))
            naive = (
                max(0.0, (arrival.appointment.start - local(day, arrived)).total_seconds() / 60)
                if arrival.appointment is not None
                else 0.0  # a walk-in: "you will be seen now"
            )
            outcomes.append(
                Outcome(
                    entry.told_wait_minutes or 0,
                    minute - arrived,
                    naive,
                    walk_in=arrival.appointment is None,
                    early_day=takes_early[index],
                    urgent=arrival.priority != "normal",
                )
            )
        minute += 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=f"PostgreSQL: a URL naming {SCRATCH_DB}")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20260907)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    url, drop = scratch_database(args.database_url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "frontdesk.settings"
    os.environ["CLINIC_TIME_ZONE"] = "America/New_York"
    os.environ["REDIS_URL"] = ""
    os.environ["DATABASE_POOL_SIZE"] = "0"  # so the scratch database can be dropped at the end
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    from frontdesk.accounts.roles import Role
    from frontdesk.accounts.services import staff_create
    from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
    from frontdesk.scheduling.models import Schedule

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        clinic = Clinic.objects.create(name="Bench clinic")
        location = Location.objects.create(clinic=clinic, name="Main")
        schedules = []
        for index in range(3):
            provider = Provider.objects.create(
                clinic=clinic, given_name=f"Doc{index}", family_name="Bench", specialty="Family"
            )
            schedules.append(
                Schedule.objects.create(clinic=clinic, provider=provider, location=location)
            )
        types = [
            AppointmentType.objects.create(clinic=clinic, name=name, duration_minutes=minutes)
            for name, minutes in TYPES
        ]
        user = staff_create(
            clinic=clinic,
            username="desk",
            password="a long bench password",  # noqa: S106 (a scratch database)
            role=Role.FRONT_DESK,
        )
        setup = {"clinic": clinic, "user": user, "schedules": schedules, "types": types}
        rng = random.Random(args.seed)
        outcomes: list[Outcome] = []
        day = FIRST_DAY
        for _ in range(args.days):
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            simulate_day(rng, day, setup, outcomes)
            day += dt.timedelta(days=1)
        elapsed = time.perf_counter() - started
        booked = [o for o in outcomes if not o.walk_in]
        walk_ins = [o for o in outcomes if o.walk_in]
        print(
            f"{connection.vendor}: {args.days} clinic days, {len(booked)} booked visits seen, "
            f"{len(walk_ins)} walk-ins; simulated through the services in {elapsed:.0f} s "
            f"(as of {timezone.now():%Y-%m-%d %H:%M} UTC)"
        )
        print("naive for a walk-in: 0 min ('you will be seen now'; there is no booked start)")
        for label, group in (
            ("all patients", outcomes),
            ("booked", booked),
            ("walk-ins", walk_ins),
            ("urgent or emergency walk-ins", [o for o in walk_ins if o.urgent]),
            ("days a provider took early arrivals", [o for o in outcomes if o.early_day]),
        ):
            print(
                f"{label}: mean actual wait {mean(o.actual for o in group):.1f} min; "
                f"MAE forecast {mae(group, told=True):.1f} min, naive "
                f"{mae(group, told=False):.1f} min; ratio {ratio_of(group):.2f}"
            )
        ratio = ratio_of(outcomes)
        verdict = "met" if ratio <= GOAL_RATIO else "missed"
        print(
            f"bench wait_forecast: all patients MAE {mae(outcomes, told=True):.1f} min "
            f"({ratio:.2f}x vs naive 'scheduled start minus now, 0 for a walk-in' MAE "
            f"{mae(outcomes, told=False):.1f} min; booked only {ratio_of(booked):.2f}x); "
            f"goal MAE <= {GOAL_RATIO:.0%} of naive: {verdict}"
        )
    finally:
        connections.close_all()
        if not args.keep:
            drop()


if __name__ == "__main__":
    main()
