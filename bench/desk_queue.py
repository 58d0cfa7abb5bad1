"""The desk queue page over HTTP with 20,000 open items, against hand-written SQL on the same data.

    .venv/bin/python bench/desk_queue.py            # PostgreSQL scratch database, dropped after
    .venv/bin/python bench/desk_queue.py --keep     # keep it (the next run reuses the data)
    .venv/bin/python bench/desk_queue.py --keep --profile 20   # and where a load spends its time

The goal (from the issue): on PostgreSQL, 20,000 open items across 30 officers and 4 pools, the
desk queue page for one officer over HTTP: p95 <= 50 ms and within 2x of the raw SQL that
selects the same rows in the same run; and the order is right against an independent
computation of the documented score.

What it does:

- Database: a scratch PostgreSQL database `frontdesk_bench_desk` (created, migrated, filled;
  reused when it already holds the bench clinic; dropped at the end unless --keep).
- Items, a realistic mix of stored and derived work: callbacks still owed (15%, a few past the
  clinic's maximum attempts and so with the supervisors), clinicians' answers for the desk to
  relay (4%), medical questions still with nurse triage (5%) and grievances open with the
  supervisors (1%), written as the inquiries and complaints services leave them; walk-ins
  registered through the real service (each a registration to complete, half of them waiting
  past the red threshold, a few as emergencies: red flags); and the rest unconfirmed
  appointments in the next two business days. Questions and grievances are not the front
  desk's to see (the page leaves them out; they weigh on the union all the same). The desk's
  own state is written as the services would leave it: claims spread over the 30 front-desk
  officers, hand-overs to people and to pools, snoozes (hidden until later). Of the four
  pools, the front desk's and the supervisors' take these kinds; hand-overs go to those two.
- Server: waitress (`python -m frontdesk.wsgi`), one process (bench/_server.py), signed in as
  one front-desk officer like a browser; each request is a full page: session, the one union
  query, the audit event naming the patients shown, the sources' words, the template.
- Mix: the whole queue (pages 1 and 2), mine, my team's pool, unassigned, overdue, one kind.
- Raw SQL baseline: what a DBA would write straight against the tables (psycopg, one
  connection): the same rows of the same filter, ordered the same way, the first 50 and the
  count. Written here, not taken from the desk's code.
- Ceiling, in the same rounds: a second server, the same but for the desk query, which it
  answers from memory after its first run (bench/_desk_query_from_memory.py). Its pages cost
  everything the page does but that query; that time plus the raw SQL's is the best this
  page could reach with a query exactly as fast as the hand-written one.
- Order check: every open item is read once more (raw, unordered) and the bench computes the
  score itself in Python (red flag, then patient waiting, then deadline with none last, then
  age, then kind and ref); the HTTP page and the raw page must both equal its first 50 rows
  for every filter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _desk_data import CLINIC_NAME, PASSWORD, ZONE, build, window_end  # noqa: E402
from _server import Server  # noqa: E402
from patient_search import Browser, percentile  # noqa: E402

BIN = ROOT / ".venv" / "bin"
SCRATCH_DB = "frontdesk_bench_desk"
DEFAULT_PG_URL = f"postgres://postgres@127.0.0.1:5432/{SCRATCH_DB}"
TMP = Path(tempfile.gettempdir())
PAGE = 50
RED_MINUTES = 30  # the board's default red threshold for waiting (flow/thresholds.py)
GOAL_P95_MS = 50.0
GOAL_RATIO = 2.0
ITEM_ROW = re.compile(r'id="item-([a-z_]+)-(\d+)"')

MIX = [
    ("all", {}),
    ("all, page 2", {"page": "2"}),
    ("mine", {"show": "mine"}),
    ("pool", {"show": "pool"}),
    ("unassigned", {"show": "unassigned"}),
    ("overdue", {"show": "overdue"}),
    ("kind", {"kind": "unconfirmed"}),
    ("callbacks", {"kind": "callback"}),
]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------------------------------------
# The database


def pg_admin(url: str) -> Any:
    import psycopg

    base, _, _ = url.rpartition("/")
    return psycopg.connect(f"{base}/postgres", autocommit=True)


def pg_database_exists(url: str) -> bool:
    with pg_admin(url) as conn:
        name = url.rpartition("/")[2]
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def pg_create(url: str) -> None:
    with pg_admin(url) as conn:
        conn.execute(f'CREATE DATABASE "{url.rpartition("/")[2]}"')


def pg_drop(url: str) -> None:
    with pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()


class Raw:
    def __init__(self, url: str, clinic_id: int, officer_id: int) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.clinic_id = clinic_id
        self.officer_id = officer_id

    def sources(self, now: dt.datetime) -> list[tuple[str, str, list[Any]]]:
        """Each kind's open rows (kind, SQL, parameters), written straight on the tables, with
        the columns kind, ref, patient_id, due, since, red_flag, patient_waiting, owner_id,
        pool."""
        today = now.astimezone(zoneinfo.ZoneInfo(ZONE)).date()
        red = now - dt.timedelta(minutes=RED_MINUTES)
        unconfirmed = """
            SELECT 'unconfirmed' AS kind, a.id AS ref, a.patient_id, a.start AS due,
                   a.created_at AS since, false AS red_flag, false AS patient_waiting,
                   NULL::bigint AS owner_id, '' AS pool
              FROM scheduling_appointment a
             WHERE a.clinic_id = %s AND a.status = 'booked' AND a.confirmed_at IS NULL
               AND a.start > %s AND a.start < %s"""
        walk_in = """
            SELECT 'walk_in_incomplete' AS kind, r.id AS ref, r.patient_id,
                   NULL::timestamptz AS due, r.registered_at AS since, false AS red_flag,
                   EXISTS (SELECT 1 FROM flow_queueentry w
                            WHERE w.patient_id = r.patient_id AND w.clinic_id = %s
                              AND w.day = %s AND w.status = 'waiting') AS patient_waiting,
                   NULL::bigint AS owner_id, '' AS pool
              FROM flow_incompleteregistration r JOIN patients_patient p ON p.id = r.patient_id
             WHERE p.clinic_id = %s AND r.completed_at IS NULL"""
        waiting = """
            SELECT 'waiting_red' AS kind, e.id AS ref, e.patient_id,
                   e.status_changed_at + make_interval(mins => %s) AS due,
                   e.checked_in_at AS since, e.priority = 'emergency' AS red_flag,
                   true AS patient_waiting, NULL::bigint AS owner_id, '' AS pool
              FROM flow_queueentry e
             WHERE e.clinic_id = %s AND e.status = 'waiting' AND e.status_changed_at <= %s"""
        callback = """
            SELECT 'callback' AS kind, c.id AS ref, c.patient_id, c.due, c.created_at AS since,
                   false AS red_flag, false AS patient_waiting, c.owner_id, c.pool::text AS pool
              FROM inquiries_callback c
             WHERE c.clinic_id = %s AND c.status IN ('requested', 'in-progress')"""
        answer = """
            SELECT 'answer' AS kind, i.id AS ref, i.patient_id,
                   q.answered_at + interval '1 hour' AS due, q.answered_at AS since,
                   q.red_flag, false AS patient_waiting, NULL::bigint AS owner_id,
                   'desk' AS pool
              FROM inquiries_inquiry i JOIN inquiries_medicalquestion q ON q.inquiry_id = i.id
             WHERE i.clinic_id = %s AND q.status = 'in-progress' AND q.answer_route = 'desk'
               AND q.relayed_at IS NULL"""
        return [
            ("unconfirmed", unconfirmed, [self.clinic_id, now, window_end(now)]),
            ("walk_in_incomplete", walk_in, [self.clinic_id, today, self.clinic_id]),
            ("waiting_red", waiting, [RED_MINUTES, self.clinic_id, red]),
            ("callback", callback, [self.clinic_id]),
            ("answer", answer, [self.clinic_id]),
        ]

    def union(self, now: dt.datetime) -> tuple[str, list[Any]]:
        sources = self.sources(now)
        sql = " UNION ALL ".join(f"({sql})" for _, sql, _ in sources)
        return sql, [p for _, _, params in sources for p in params]

    def condition(self, filters: dict[str, str], now: dt.datetime) -> tuple[str, list[Any]]:
        # Who has it: the claim, the person it was handed to, else (unless handed to a pool)
        # the source's owner. Its pool: none when handed to a person, the pool it was handed
        # to, else the source's, the whole desk's work being the front desk's.
        who = (
            "COALESCE(s.claimed_by_id, s.handed_to_id, "
            "CASE WHEN COALESCE(s.handed_to_pool, '') = '' THEN u.owner_id END)"
        )
        pool = (
            "CASE WHEN s.handed_to_id IS NOT NULL THEN '' "
            "WHEN COALESCE(s.handed_to_pool, '') <> '' THEN s.handed_to_pool "
            "WHEN u.pool = '' THEN 'desk' ELSE u.pool END"
        )
        parts, params = ["(s.snoozed_until IS NULL OR s.snoozed_until <= %s)"], [now]
        show = filters.get("show", "")
        if show == "mine":
            parts.append(f"{who} = %s")
            params.append(self.officer_id)
        elif show == "pool":
            parts.append(f"{pool} = 'desk'")
        elif show == "unassigned":
            parts.append(f"{who} IS NULL")
        elif show == "overdue":
            parts.append("u.due < %s")
            params.append(now)
        return " AND ".join(parts), params

    def page(
        self, filters: dict[str, str], now: dt.datetime
    ) -> tuple[float, list[tuple[str, int]]]:
        """The page as a DBA would write it, in the desk's two shapes: when the filter asks
        who has each item or keeps few (mine, pool, unassigned, overdue), the union with the
        desk's state joined on, filtered, counted by a window, ordered and cut; otherwise each
        kind's rows with the desk's state joined on and filtered, ordered by the score and cut
        to offset + 50 (the page is among each kind's first offset + 50), their union ordered
        and cut again, and the count the sum of each kind's, asking only about snoozes."""
        where, more = self.condition(filters, now)
        offset = (int(filters.get("page", "1")) - 1) * PAGE
        reads_state = filters.get("show", "") in ("mine", "pool", "unassigned", "overdue")
        sources = [
            (kind, source, source_params)
            for kind, source, source_params in self.sources(now)
            if not filters.get("kind") or kind == filters["kind"]
        ]
        if reads_state:
            # Every row's claim or hand-over is asked: one pass, counted by a window.
            union = " UNION ALL ".join(f"({source})" for _, source, _ in sources)
            sql = f"""
                SELECT u.kind, u.ref, u.patient_id, s.claimed_by_id, s.handed_to_id,
                       count(*) OVER () AS total
                  FROM ({union}) u
                  LEFT JOIN desk_deskitem s
                    ON s.clinic_id = %s AND s.kind = u.kind AND s.ref = u.ref
                 WHERE {where}
                 ORDER BY u.red_flag DESC, u.patient_waiting DESC, u.due IS NULL, u.due,
                          u.since, u.kind, u.ref
                 LIMIT {PAGE} OFFSET {offset}
            """
            params = [p for _, _, source_params in sources for p in source_params]
            started = time.perf_counter()
            rows = self.conn.execute(sql, [*params, self.clinic_id, *more]).fetchall()
            elapsed = (time.perf_counter() - started) * 1000
            return elapsed, [(r[0], r[1]) for r in rows]
        branches, counts, params, count_params = [], [], [], []
        for kind, source, source_params in sources:
            joined = f"""FROM ({source}) u LEFT JOIN desk_deskitem s
                           ON s.clinic_id = %s AND s.kind = '{kind}' AND s.ref = u.ref
                        WHERE {where}"""
            branches.append(
                f"""SELECT * FROM (
                      SELECT u.kind, u.ref, u.patient_id, u.due, u.since, u.red_flag,
                             u.patient_waiting, s.claimed_by_id, s.handed_to_id
                        {joined}
                       ORDER BY u.red_flag DESC, u.patient_waiting DESC, u.due NULLS LAST,
                                u.since, u.ref
                       LIMIT {offset + PAGE}) b"""
            )
            params += [*source_params, self.clinic_id, *more]
            counts.append(
                f"""(SELECT count(*) FROM ({source}) u
                      WHERE NOT EXISTS (SELECT 1 FROM desk_deskitem s
                                         WHERE s.clinic_id = %s AND s.kind = '{kind}'
                                           AND s.ref = u.ref AND s.snoozed_until > %s))"""
            )
            count_params += [*source_params, self.clinic_id, now]
        sql = f"""
            SELECT u.kind, u.ref, u.patient_id, u.claimed_by_id, u.handed_to_id,
                   {" + ".join(counts)} AS total
              FROM ({" UNION ALL ".join(branches)}) u
             ORDER BY u.red_flag DESC, u.patient_waiting DESC, u.due IS NULL, u.due, u.since,
                      u.kind, u.ref
             LIMIT {PAGE} OFFSET {offset}
        """
        started = time.perf_counter()
        rows = self.conn.execute(sql, [*count_params, *params]).fetchall()
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, [(r[0], r[1]) for r in rows]

    def expected(self, filters: dict[str, str], now: dt.datetime) -> list[tuple[str, int]]:
        """The page computed in Python from every open item, by the documented score."""
        union, params = self.union(now)
        rows = self.conn.execute(
            f"""SELECT u.kind, u.ref, u.due, u.since, u.red_flag, u.patient_waiting,
                       u.owner_id, u.pool,
                       s.claimed_by_id, s.handed_to_id, s.handed_to_pool, s.snoozed_until
                  FROM ({union}) u LEFT JOIN desk_deskitem s
                    ON s.clinic_id = %s AND s.kind = u.kind AND s.ref = u.ref""",
            [*params, self.clinic_id],
        ).fetchall()
        kept = []
        show = filters.get("show", "")
        for row in rows:
            kind, ref, due, since, red, waiting, owner, own_pool = row[:8]
            claimed, handed, to_pool, snoozed = row[8:]
            if snoozed is not None and snoozed > now:
                continue
            who = claimed or handed or (None if to_pool else owner)
            pool = "" if handed else (to_pool or own_pool or "desk")
            if show == "mine" and who != self.officer_id:
                continue
            if show == "pool" and pool != "desk":
                continue
            if show == "unassigned" and who is not None:
                continue
            if show == "overdue" and not (due is not None and due < now):
                continue
            if filters.get("kind") and kind != filters["kind"]:
                continue
            never = dt.datetime.max.replace(tzinfo=dt.UTC)
            key = (not red, not waiting, due is None, due or never, since, kind, ref)
            kept.append((key, (kind, ref)))
        kept.sort()
        offset = (int(filters.get("page", "1")) - 1) * PAGE
        return [item for _, item in kept[offset : offset + PAGE]]


# ---------------------------------------------------------------------------------------------


def http_page(browser: Browser, filters: dict[str, str]) -> tuple[float, list[tuple[str, int]]]:
    path = "/desk/" + (f"?{urllib.parse.urlencode(filters)}" if filters else "")
    started = time.perf_counter()
    status, _, body = browser.request("GET", path)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise SystemExit(f"GET {path} answered {status}")
    return elapsed, [(k, int(r)) for k, r in ITEM_ROW.findall(body.decode())]


Measure = Callable[[dict[str, str]], tuple[float, list[tuple[str, int]]]]


def timed(count: int, measures: Mapping[str, Measure]) -> dict[str, dict[str, list[float]]]:
    """Each measure of each filter in turn, `count` rounds in all; the order of the measures
    turns each round, so that none is always the one that runs just after another."""
    ms: dict[str, dict[str, list[float]]] = {m: {name: [] for name, _ in MIX} for m in measures}
    order = list(measures)
    for n in range(count):
        name, filters = MIX[n % len(MIX)]
        turned = order[n % len(order) :] + order[: n % len(order)]
        for m in turned:
            ms[m][name].append(measures[m](filters)[0])
    return ms


def profile(officer: Any, count: int) -> None:
    """Where one /desk/ load spends its time, in this process (Django's test client): the
    stages' medians, then cProfile's top functions over `count` loads."""
    import cProfile
    import io
    import logging
    import pstats

    from django.template.loader import render_to_string
    from django.test import Client
    from django.utils import timezone

    from frontdesk.desk import selectors

    def median_ms(run: Callable[[], object]) -> float:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    logging.getLogger("frontdesk.access").setLevel(logging.WARNING)  # one line per load
    now = timezone.now()
    rows, total = selectors.desk_rows(user=officer, now=now)
    page = selectors.desk_page(user=officer, now=now)
    stages = {
        "the union's SQL built": lambda: selectors.desk_queue_sql(user=officer, now=now),
        "built and run (page and count)": lambda: selectors.desk_rows(user=officer, now=now),
        "the page's rows described": lambda: selectors._described(officer, rows, now=now),
        "the list's template": lambda: render_to_string(
            "desk/_queue.html", {"desk": page, "query_suffix": "", "problem": {}}
        ),
    }
    print(f"  profile: {count} loads in this process; {len(rows)} rows of {total:,} on the page")
    for label, run in stages.items():
        print(f"    {label:<32} median {median_ms(run):6.1f} ms")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(officer)
    client.get("/desk/")
    whole = median_ms(lambda: client.get("/desk/"))
    print(f"    {'the whole page (test client)':<32} median {whole:6.1f} ms")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        client.get("/desk/")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"frontdesk", 25)
    print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--officers", type=int, default=30)
    parser.add_argument("--walk-ins", type=int, default=200)
    parser.add_argument("--requests", type=int, default=350)
    parser.add_argument("--warmup", type=int, default=35)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also load /desk/ N times in this process: each stage's time and cProfile's top",
    )
    args = parser.parse_args(argv)
    url = args.database_url or DEFAULT_PG_URL
    scratch = not args.database_url
    name = "desk_queue"
    print(f"bench {name}: PostgreSQL {url.rpartition('@')[2]}; load average {load_average()}")
    if scratch and not pg_database_exists(url):
        pg_create(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "frontdesk.settings"}
    for command in (["migrate"], ["collectstatic", "--noinput"]):
        subprocess.run([str(BIN / "frontdesk"), *command, "-v", "0"], env=env, check=True)
    django_setup(url)
    from frontdesk.accounts.models import User
    from frontdesk.clinic.models import Clinic

    clinic = Clinic.objects.filter(name=CLINIC_NAME).first()
    if clinic is None:
        seconds = build(args.items, args.officers, args.walk_ins, args.seed)
        clinic = Clinic.objects.get(name=CLINIC_NAME)
        print(f"  built the bench clinic in {seconds:.0f} s")
    else:
        print("  reused the bench clinic")
    officer = User.objects.get(clinic=clinic, username="desk01")
    from django.db import connection

    connection.close()

    raw = Raw(url, clinic.pk, officer.pk)
    # Fresh statistics, as autovacuum would have them after a bulk load (the planner otherwise
    # takes the just-filled tables for empty ones).
    raw.conn.execute("ANALYZE")
    now = dt.datetime.now(dt.UTC)
    total = raw.conn.execute(
        f"SELECT count(*) FROM ({raw.union(now)[0]}) u", raw.union(now)[1]
    ).fetchone()[0]
    claimed = raw.conn.execute(
        "SELECT count(*), count(DISTINCT claimed_by_id), count(DISTINCT handed_to_pool) "
        "FROM desk_deskitem WHERE clinic_id = %s",
        [clinic.pk],
    ).fetchone()
    stored = raw.conn.execute(
        """SELECT (SELECT count(*) FROM inquiries_callback
                    WHERE clinic_id = %(c)s AND status IN ('requested', 'in-progress')),
                  (SELECT count(*) FROM inquiries_medicalquestion
                    WHERE clinic_id = %(c)s AND status IN ('requested', 'in-progress')),
                  (SELECT count(*) FROM complaints_complaint
                    WHERE clinic_id = %(c)s AND status IN ('awaiting_acknowledgement',
                                                             'acknowledged'))""",
        {"c": clinic.pk},
    ).fetchone()
    questions_only = (
        stored[1]
        - raw.conn.execute(
            "SELECT count(*) FROM inquiries_medicalquestion WHERE clinic_id = %s "
            "AND status = 'in-progress'",
            [clinic.pk],
        ).fetchone()[0]
    )
    print(
        f"  {total + questions_only + stored[2]:,} open items in all: {total:,} the front "
        f"desk's (of them {stored[0]:,} stored callbacks and the answers to relay), "
        f"{questions_only:,} questions with nurse triage, {stored[2]:,} open grievances"
    )
    print(
        f"  {total:,} open items; desk state on {claimed[0]:,} of them: claims by "
        f"{claimed[1]} officers, hand-overs to people and to {claimed[2] - 1} pools"
    )
    server = ceiling_server = None
    wrong: list[str] = []
    try:
        server = Server(env, TMP / f"frontdesk_bench_{name}_server.log")
        browser = Browser(server.port)
        browser.sign_in(officer.username, PASSWORD)
        print(f"  waitress on 127.0.0.1:{server.port} (1 process), signed in as {officer.username}")
        # The ceiling: the same server but for the desk query, answered from memory after its
        # first run (bench/_desk_query_from_memory.py), measured in the same rounds.
        ceiling_server = Server(
            env,
            TMP / f"frontdesk_bench_{name}_ceiling_server.log",
            entry=(str(ROOT / "bench" / "_desk_query_from_memory.py"),),
        )
        ceiling_browser = Browser(ceiling_server.port)
        ceiling_browser.sign_in(officer.username, PASSWORD)

        def http(filters: dict[str, str]) -> tuple[float, list[tuple[str, int]]]:
            return http_page(browser, filters)

        def raw_page(filters: dict[str, str]) -> tuple[float, list[tuple[str, int]]]:
            return raw.page(filters, dt.datetime.now(dt.UTC))

        def no_query(filters: dict[str, str]) -> tuple[float, list[tuple[str, int]]]:
            return http_page(ceiling_browser, filters)

        measures = {"http": http, "no query": no_query, "raw": raw_page}
        timed(args.warmup, measures)
        ms = timed(args.requests, measures)
        http_ms, own_ms, raw_ms = ms["http"], ms["no query"], ms["raw"]
        # What every request costs before any desk work: the live part's "nothing changed"
        # answer is the same session, sign-in and middleware, one small query, no rows.
        floor = []
        status, _, body = browser.request("GET", "/desk/live/")
        version = re.search(rb'data-version="(\d+)"', body)
        for _ in range(30):
            started = time.perf_counter()
            status, _, _ = browser.request(
                "GET", f"/desk/live/?since={version.group(1).decode() if version else 0}"
            )
            floor.append((time.perf_counter() - started) * 1000)
        print(
            f"  request floor (GET /desk/live/?since=N answered {status}, no rows) x{len(floor)}: "
            f"p50 {statistics.median(floor):.1f} ms, p95 {percentile(floor, 95):.1f} ms"
        )
        for label, filters in MIX:
            now = dt.datetime.now(dt.UTC)
            expected = raw.expected(filters, now)
            shown = http(filters)[1]
            by_sql = raw.page(filters, now)[1]
            if shown != expected:
                wrong.append(f"{label}: the page's order differs from the score's")
            if by_sql != expected:
                wrong.append(f"{label}: the raw SQL's order differs from the score's")
            if not expected:
                wrong.append(f"{label}: nothing to check (no rows)")
    finally:
        for running in (server, ceiling_server):
            if running is not None:
                running.stop()
        raw.conn.close()

    print(
        f"  {'filter':<14} {'HTTP p50':>9} {'HTTP p95':>9} {'raw p50':>8} {'raw p95':>8} "
        f"{'no query p50':>13} {'p95':>7}"
    )
    for label, _ in MIX:
        h, r, o = http_ms[label], raw_ms[label], own_ms[label]
        print(
            f"  {label:<14} {statistics.median(h):>7.1f}ms {percentile(h, 95):>7.1f}ms "
            f"{statistics.median(r):>6.1f}ms {percentile(r, 95):>6.1f}ms "
            f"{statistics.median(o):>11.1f}ms {percentile(o, 95):>5.1f}ms"
        )
    all_h = [v for values in http_ms.values() for v in values]
    all_r = [v for values in raw_ms.values() for v in values]
    all_o = [v for values in own_ms.values() for v in values]
    p95_h, p95_r = percentile(all_h, 95), percentile(all_r, 95)
    ratio = p95_h / p95_r
    # The best this page could do with a query exactly as fast as the hand-written one: each
    # round's page without its query plus that round's raw SQL.
    best = [o + r for label, _ in MIX for o, r in zip(own_ms[label], raw_ms[label], strict=True)]
    p95_best = percentile(best, 95)
    print(
        f"  ceiling: the same page with its query answered from memory, p50 "
        f"{statistics.median(all_o):.1f} ms, p95 {percentile(all_o, 95):.1f} ms; with a query "
        f"as fast as the raw SQL it would be at best p95 {p95_best:.1f} ms "
        f"({p95_best / p95_r:.2f}x raw)"
    )
    for line in wrong:
        print(f"  WRONG: {line}")
    print(
        f"  order checked against the score computed here for {len(MIX)} filters: "
        f"{'right' if not wrong else 'WRONG'}; load average at end {load_average()}"
    )
    if args.profile:
        profile(officer, args.profile)
    if scratch and not args.keep:
        pg_drop(url)
        print(f"  dropped the scratch database {url}")
    met = p95_h <= GOAL_P95_MS and ratio <= GOAL_RATIO and not wrong
    print(
        f"bench {name}: p95 {p95_h:.1f} ms over HTTP ({ratio:.2f}x vs raw SQL p95 "
        f"{p95_r:.1f} ms), order {'right' if not wrong else 'wrong'}; goal p95 <= "
        f"{GOAL_P95_MS:.0f} ms and <= {GOAL_RATIO:.0f}x raw, order right: "
        f"{'met' if met else 'missed'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
