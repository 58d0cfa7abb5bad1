"""The duplicates report (`frontdesk duplicates`) on a big demo index: time and recall.

    .venv/bin/python bench/duplicates_report.py                   # build 1,000,000, run, delete
    .venv/bin/python bench/duplicates_report.py --patients 100000 # a smaller index
    .venv/bin/python bench/duplicates_report.py --database-url sqlite:////tmp/dup1m.sqlite3

Without --database-url it builds a fresh SQLite index with `frontdesk demo` (seeded, about
3 % of the patients planted near-duplicates of an earlier one: a nickname, a one-letter
typo in the family name, and/or day and month swapped), and deletes it afterwards unless
--keep. With --database-url it reuses the demo clinic already in that database, reading its
size and seed from the audit event the demo wrote when it built it.

The report runs as a user runs it, `frontdesk duplicates --format csv --output FILE` in a
child process, and its wall time is the figure. The planted pairs are known by replaying the
demo's generator with the same seed (`demo_patient_rows` gives each planted row the position
of its original; patients were inserted in that order, so position k is the k-th patient by
id). Recall counts each planted pair found as "very likely the same", as "possible", or not
found; the other reported pairs are counted too, since the demo plants nothing else, though
some are real look-alikes (namesakes in one town, the same name and birth date).

The machine is shared: the load average before and after is printed, and the child's CPU
time, so a slow figure can be told from a busy machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

BUDGET_SECONDS = 300.0
GOAL_PATIENTS = 1_000_000
FRONTDESK = ROOT / ".venv" / "bin" / "frontdesk"


def _frontdesk(database_url: str, *args: str, quiet: bool = False) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(
        [str(FRONTDESK), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def build(database_url: str, *, patients: int, seed: int, as_of: dt.date) -> None:
    started = time.monotonic()
    _frontdesk(database_url, "migrate", "--noinput", "-v", "0")
    with tempfile.TemporaryDirectory() as scratch:
        _frontdesk(
            database_url,
            "demo",
            "--patients",
            str(patients),
            "--seed",
            str(seed),
            "--as-of",
            as_of.isoformat(),
            "--credentials",
            str(Path(scratch) / "credentials.txt"),
            "-v",
            "0",
            quiet=True,
        )
    print(f"built the demo index: {patients:,} patients in {time.monotonic() - started:.0f} s")


def diagnose(missed: list[frozenset[str]]) -> Counter[str]:
    """Why planted pairs were not reported: scored below the warning, or never compared."""
    from frontdesk.patients.duplicates import person_record_from_patient
    from frontdesk.patients.matching.records import blocking_keys
    from frontdesk.patients.matching.verdict import WARNING_THRESHOLD, match_score
    from frontdesk.patients.models import Patient

    reasons: Counter[str] = Counter()
    for pair in missed:
        earlier, later = Patient.objects.filter(mrn__in=pair).order_by("id")
        a, b = person_record_from_patient(earlier), person_record_from_patient(later)
        kinds = {key.split(":")[0] for key in blocking_keys(a) & blocking_keys(b)}
        if match_score(b, a).score < WARNING_THRESHOLD:
            reasons["scored below the warning threshold"] += 1
        elif len(kinds) < 2:
            reasons[f"shares keys of {len(kinds)} kind(s) only"] += 1
        else:
            reasons["its keys were over the cap"] += 1
    return reasons


def planted_pairs(database_url: str) -> tuple[int, dict[frozenset[str], str]]:
    """The demo clinic's size and its planted pairs: {MRN pair: what was changed}."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()
    from frontdesk.audit.models import AuditAction, AuditEvent
    from frontdesk.demo.people import demo_patient_rows, demo_pools
    from frontdesk.demo.services import demo_clinic_loaded
    from frontdesk.patients.models import Patient

    clinic = demo_clinic_loaded()
    if clinic is None:
        raise SystemExit("No demo clinic in that database; build one with `frontdesk demo`.")
    built = AuditEvent.objects.get(
        action=AuditAction.SYSTEM, object_type="clinic", object_id=str(clinic.pk)
    )
    count, seed = int(built.detail["demo_patients"]), int(built.detail["seed"])
    rows = Patient.objects.filter(clinic=clinic).order_by("id")
    people = list(rows.values_list("mrn", "given_name", "family_name", "birth_date"))
    if len(people) != count:
        raise SystemExit(f"The demo clinic has {len(people):,} patients, not {count:,}.")
    # Which rows are planted does not depend on the reference date, only on the seed.
    generated = demo_patient_rows(
        seed=seed, count=count, today=dt.date(2025, 1, 1), pools=demo_pools(seed)
    )
    pairs: dict[frozenset[str], str] = {}
    for position, row in enumerate(generated):
        if row.duplicate_of is None:
            continue
        original, again = people[row.duplicate_of], people[position]
        changes = [
            name
            for name, differs in (
                ("nickname", original[1] != again[1]),
                ("typo", original[2] != again[2]),
                ("swap", original[3] != again[3]),
            )
            if differs
        ]
        pairs[frozenset((original[0], again[0]))] = "+".join(changes) or "none"
    return count, pairs


def run_report(database_url: str, output: Path, extra: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (its worker processes included) and peak memory in MB of
    the largest process, for one `frontdesk duplicates` run."""
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [str(FRONTDESK), "duplicates", "--format", "csv", "--output", str(output), *extra]
    started = time.monotonic()
    child = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"frontdesk duplicates failed with exit status {child.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=GOAL_PATIENTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="reuse the demo clinic in this database")
    parser.add_argument("--keep", action="store_true", help="keep the database it builds")
    parser.add_argument(
        "report_args", nargs="*", help="passed to `frontdesk duplicates` (after --)"
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-duplicates-"))
    database_url = args.database_url
    built_here = database_url is None
    if built_here:
        database_url = f"sqlite:///{scratch / 'index.sqlite3'}"
        build(database_url, patients=args.patients, seed=args.seed, as_of=dt.date(2025, 6, 1))
    output = scratch / "duplicates.csv"
    try:
        load_before = os.getloadavg()
        seconds, cpu, peak_mb = run_report(database_url, output, args.report_args)
        load_after = os.getloadavg()
        with output.open(encoding="utf-8") as handle:
            reported = {
                frozenset((row["mrn_a"], row["mrn_b"])): row["verdict"]
                for row in csv.DictReader(handle)
            }
        patients, planted = planted_pairs(database_url)
    finally:
        output.unlink(missing_ok=True)
        if built_here and args.keep:
            print(f"kept the index: {database_url}")
        else:
            for path in scratch.iterdir():
                path.unlink()
            scratch.rmdir()

    print(
        f"report: {seconds:.1f} s wall, {cpu:.0f} s CPU over all processes, largest process "
        f"{peak_mb:,.0f} MB; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(f"reported pairs: {len(reported):,} ({dict(Counter(reported.values()))})")
    by_change: dict[str, Counter[str]] = {}
    outcome: Counter[str] = Counter()
    for pair, change in planted.items():
        verdict = reported.get(pair, "not found")
        outcome[verdict] += 1
        by_change.setdefault(change, Counter())[verdict] += 1
    total = len(planted)
    print(f"planted pairs: {total:,}")
    for verdict in ("very likely the same", "possible", "not found"):
        print(f"  {verdict:<22}{outcome[verdict]:>8,}  {outcome[verdict] / max(total, 1):7.2%}")
    for change, counts in sorted(by_change.items()):
        found = counts["very likely the same"] + counts["possible"]
        print(
            f"  {change:<22}{sum(counts.values()):>8,}: very likely "
            f"{counts['very likely the same']:,}, possible {counts['possible']:,}, "
            f"recall {found / sum(counts.values()):.2%}"
        )
    missed = [pair for pair in planted if pair not in reported]
    for reason, count in diagnose(missed).most_common():
        print(f"  not found: {count:,} {reason}")
    others = Counter(v for pair, v in reported.items() if pair not in planted)
    print(
        f"other reported pairs (not planted): {sum(others.values()):,} "
        f"(very likely {others['very likely the same']:,}, possible {others['possible']:,})"
    )
    verdict = "met" if patients >= GOAL_PATIENTS and seconds <= BUDGET_SECONDS else "missed"
    print(
        f"bench duplicates_report: {seconds:.1f} s for {patients:,} patients "
        f"({seconds / BUDGET_SECONDS:.2f} vs 300 s budget); "
        f"goal within 5 minutes at 1M: {verdict}"
    )


if __name__ == "__main__":
    main()
