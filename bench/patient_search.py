"""Patient search through the HTTP endpoint, against hand-written SQL on the same data.

    .venv/bin/python bench/patient_search.py --keep          # PostgreSQL, 1,000,000 patients
    .venv/bin/python bench/patient_search.py --sqlite        # SQLite, 100,000 patients

The goal (from the issue): on PostgreSQL with 1,000,000 demo patients, the p95 of a mixed query
set through GET /patients/?q=... as a signed-in front-desk officer is at most 30 ms and at most
1.5 times the p95 of the same queries as raw SQL, timed in the same run; on SQLite with 100,000
patients, p95 at most 30 ms.

What it does:

- Database: by default a scratch PostgreSQL database `frontdesk_bench_search` (created,
  migrated and filled with `frontdesk demo --patients N`; reused when it already holds the demo;
  dropped at the end unless --keep), or with --sqlite a scratch file under /tmp. With
  --database-url it uses that database and never drops it.
- Server: `python -m frontdesk.wsgi` (waitress, as `make run` serves) on 127.0.0.1 and a free
  port. The client signs in as the demo's front_desk user like a browser (GET the sign-in page
  for the CSRF cookie, POST the credentials) and then sends each search as htmx does
  (`HX-Request: true`, the results fragment), sequentially, over one keep-alive connection.
  Every search is a full request: session, audit event, template.
- Queries: drawn from the data with a seeded RNG: family-name prefixes, "family given" and
  "given family" fragments, "Family, Given", one-typo family names (a swap, deletion or
  replacement in a real family name of 5+ letters, re-drawn if the typo is itself a family
  name in the data), birth dates ISO and MM/DD/YYYY, phone numbers in several formats, the last
  four digits of a phone, MRNs.
- Correctness: after timing, the MRNs each response shows are looked up and checked against
  the query (every row shown must fit it), and for exact-style queries the patient the query
  was drawn from must be shown, unless 20 other patients that fit just as exactly fill the page.
  For one-typo queries, a patient with the intended family name must be shown. The same checks
  are applied to the raw SQL's rows, so a fast wrong answer on either side is visible.
- Raw SQL baseline: what a DBA would write straight against patients_patient, without Django:
  on PostgreSQL pg_trgm (the extension and GIN trigram indexes on lower(family_name) and
  lower(given_name) are created in the scratch database if missing) for name fragments
  (LIKE 'x%') and typos (the % similarity operator, ordered by similarity), and plain indexed
  equality for dates, phones and MRNs; on SQLite an FTS5 trigram table over the two names.
  Both sides answer the same question: up to 20 active patients of the clinic, in name order
  (typos: most similar first), with the columns the results list shows. psycopg or sqlite3
  directly, one connection.
- Timing: after a warm-up of both paths, each query runs once over HTTP and once as raw SQL,
  alternating which goes first, so neither side gets the other's warmed cache more often.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _search_data import (  # noqa: E402
    Database,
    credentials_path,
    demo_database_ready,
    pg_drop_database,
    sqlite_path,
)
from _search_queries import (  # noqa: E402
    KIND_WEIGHTS,
    Query,
    Verdict,
    build_queries,
    rows_by_mrn,
    verify,
)
from _search_raw import RawSearch  # noqa: E402
from _server import Server  # noqa: E402  (bench/_server.py, beside this script)

SCRATCH_DB = "frontdesk_bench_search"
DEFAULT_PG_URL = f"postgres://postgres@127.0.0.1:5432/{SCRATCH_DB}"
TMP = Path(tempfile.gettempdir())  # /tmp here
SCRATCH_SQLITE = TMP / "frontdesk_bench_search.sqlite3"
GOAL_P95_MS = 30.0
GOAL_RATIO = 1.5


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------------------------------
# Databases: the scratch database, and a thin DB-API layer for sampling and the raw baseline


# ---------------------------------------------------------------------------------------------
# The HTTP side


@dataclass
class Browser:
    """A keep-alive HTTP/1.1 client with a cookie jar, enough for Django's sign-in."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        data = response.read()
        for header in response.msg.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return response.status, dict(response.getheaders()), data

    def sign_in(self, username: str, password: str) -> None:
        status, _, _ = self.request("GET", "/accounts/login/")
        if status != 200 or "csrftoken" not in self.cookies:
            raise SystemExit(f"GET /accounts/login/ answered {status} without a CSRF cookie")
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
                "username": username,
                "password": password,
            }
        )
        status, headers, _ = self.request(
            "POST", "/accounts/login/", body=form, headers={"Referer": self.origin()}
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"Sign-in as {username} failed: {status} {headers.get('Location')}")

    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def search(self, text: str) -> tuple[float, list[str]]:
        path = "/patients/?" + urllib.parse.urlencode({"q": text})
        started = time.perf_counter()
        status, _, body = self.request("GET", path, headers={"HX-Request": "true"})
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        return elapsed, MRN_IN_HTML.findall(body.decode())


MRN_IN_HTML = re.compile(r"<code>(\d{8})</code>")


# ---------------------------------------------------------------------------------------------
# The raw SQL side

# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Sample:
    query: Query
    ms: float
    mrns: list[str]


def timed_passes(
    queries: Sequence[Query],
    http_search: Callable[[str], tuple[float, list[str]]],
    raw_search: Callable[[Query], tuple[float, list[str]]],
) -> tuple[list[Sample], list[Sample]]:
    http_samples: list[Sample] = []
    raw_samples: list[Sample] = []
    for index, query in enumerate(queries):
        order = ("http", "raw") if index % 2 == 0 else ("raw", "http")
        for side in order:
            if side == "http":
                ms, mrns = http_search(query.text)
                http_samples.append(Sample(query, ms, mrns))
            else:
                ms, mrns = raw_search(query)
                raw_samples.append(Sample(query, ms, mrns))
    return http_samples, raw_samples


@dataclass
class KindReport:
    times: list[float] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)


def summarise(db: Database, samples: list[Sample]) -> dict[str, KindReport]:
    found = rows_by_mrn(db, {m for s in samples for m in s.mrns})
    report: dict[str, KindReport] = defaultdict(KindReport)
    for sample in samples:
        rows = [found[m] for m in sample.mrns if m in found]
        entry = report[sample.query.kind]
        entry.times.append(sample.ms)
        entry.verdicts.append(verify(sample.query, rows))
    return report


def _correct(verdicts: list[Verdict]) -> str:
    shown = sum(v.target_shown for v in verdicts)
    crowded = sum(v.crowded for v in verdicts)
    unfit = sum(not v.all_fit for v in verdicts)
    missed = sum(v.all_fit and not v.ok for v in verdicts)
    text = f"{shown}/{len(verdicts)} found"
    if crowded:
        text += f" +{crowded} full page"
    if missed:
        text += f", {missed} MISSED"
    if unfit:
        text += f", {unfit} UNFIT"
    return text


def print_table(
    http: dict[str, KindReport], raw: dict[str, KindReport], selector: dict[str, list[float]]
) -> None:
    print(
        f"  {'kind':<13} {'n':>4}  {'HTTP p50':>8} {'p95':>6}  {'raw p50':>7} {'p95':>6}  "
        f"{'sel p50':>7} {'p95':>6}  {'rows':>5}  correct over HTTP | raw SQL"
    )

    def cells(times: list[float]) -> str:
        if not times:
            return f"{'-':>7} {'-':>6}"
        return f"{percentile(times, 50):>7.1f} {percentile(times, 95):>6.1f}"

    for kind in KIND_WEIGHTS:
        if kind not in http:
            continue
        h, r = http[kind], raw[kind]
        rows = f"{statistics.mean(v.shown for v in h.verdicts):.0f}/"
        rows += f"{statistics.mean(v.shown for v in r.verdicts):.0f}"
        print(
            f"  {kind:<13} {len(h.times):>4}  {cells(h.times):>15} {cells(r.times)}  "
            f"{cells(selector.get(kind, []))}  {rows:>5}  "
            f"{_correct(h.verdicts)} | {_correct(r.verdicts)}"
        )
    all_h = [t for k in http.values() for t in k.times]
    all_r = [t for k in raw.values() for t in k.times]
    all_s = [t for times in selector.values() for t in times]
    print(
        f"  {'all':<13} {len(all_h):>4}  {cells(all_h):>15} {cells(all_r)}  {cells(all_s)}"
        "   (ms; sel = patient_search() alone, in this process)"
    )


def selector_in_process(
    url: str, warmup: Sequence[Query], queries: Sequence[Query]
) -> dict[str, list[float]]:
    """patient_search() itself, timed in this process: the part of each request that is the
    search, apart from the session, audit event and template around it."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
    import django

    django.setup()
    from frontdesk.accounts.models import User
    from frontdesk.patients.selectors import patient_search

    user = User.objects.get(username="frontdesk")
    for query in warmup:
        patient_search(user, query.text)
    times: dict[str, list[float]] = defaultdict(list)
    for query in queries:
        started = time.perf_counter()
        patient_search(user, query.text)
        times[query.kind].append((time.perf_counter() - started) * 1000)
    return times


def wrong_answers(db: Database, http: list[Sample], raw: list[Sample]) -> list[str]:
    """One line per query answered wrongly over HTTP or by the raw SQL."""
    found = rows_by_mrn(db, {m for s in [*http, *raw] for m in s.mrns})
    lines = []
    for side, samples in (("HTTP", http), ("raw", raw)):
        for sample in samples:
            verdict = verify(sample.query, [found[m] for m in sample.mrns if m in found])
            if verdict.ok:
                continue
            why = "rows that do not fit" if not verdict.all_fit else "target not shown"
            lines.append(
                f"    {side}: {sample.query.kind} {sample.query.text!r} -> {verdict.shown} rows, "
                f"{why} (target {sample.query.target.family_name}, "
                f"{sample.query.target.given_name} {sample.query.target.preferred_name})"
            )
    return lines


def print_details(http: list[Sample], raw: list[Sample], wrong: list[str], *, slowest: int) -> None:
    if wrong:
        print(f"  wrong answers ({len(wrong)}):")
        for line in wrong[:30]:
            print(line)
    if slowest:
        raw_ms = {id(s.query): s.ms for s in raw}
        print(f"  slowest {slowest} over HTTP (ms HTTP / raw):")
        for sample in sorted(http, key=lambda s: s.ms, reverse=True)[:slowest]:
            print(
                f"    {sample.ms:7.1f} / {raw_ms[id(sample.query)]:6.1f}  "
                f"{sample.query.kind} {sample.query.text!r}"
            )


def clinic_of(db: Database) -> int:
    rows = db.rows(
        "SELECT clinic_id, count(*) FROM patients_patient GROUP BY clinic_id ORDER BY 2 DESC"
    )
    if not rows:
        raise SystemExit("No patients in this database.")
    return int(rows[0][0])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="use this database (never dropped)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite mode (100,000 patients)")
    parser.add_argument("--patients", type=int, help="demo size (1,000,000; 100,000 --sqlite)")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--slowest", type=int, default=5, help="list the N slowest over HTTP")
    parser.add_argument("--floor", type=int, default=100, help="empty searches to time")
    parser.add_argument(
        "--no-in-process",
        dest="in_process",
        action="store_false",
        help="skip timing patient_search() itself in this process (the breakdown column)",
    )
    args = parser.parse_args(argv)

    patients = args.patients or (100_000 if args.sqlite else 1_000_000)
    scratch = args.database_url is None
    url = args.database_url or (f"sqlite:///{SCRATCH_SQLITE}" if args.sqlite else DEFAULT_PG_URL)
    name = "patient_search_sqlite" if url.startswith("sqlite") else "patient_search"
    print(f"{name}: load average at start {load_average()} ({os.cpu_count()} cores)")
    print(f"  database: {url} ({'scratch' if scratch else 'given'})")

    demo = demo_database_ready(url, patients, scratch=scratch)
    db = Database(url)
    server: Server | None = None
    try:
        clinic_id = clinic_of(db)
        total = db.rows(
            "SELECT count(*) FROM patients_patient WHERE clinic_id = %s AND is_active",
            (clinic_id,),
        )[0][0]
        families = {r[0] for r in db.rows("SELECT name FROM patients_familyname")}
        print(
            f"  {total:,} active patients, {len(families):,} distinct family names "
            f"(set-up {demo.build_seconds:.0f} s{', built now' if demo.created else ', reused'})"
        )
        raw = RawSearch(db, clinic_id)
        print("  raw SQL baseline: " + "; ".join(raw.prepare()))

        queries = build_queries(db, clinic_id, args.queries + args.warmup, args.seed, families)
        warmup, queries = queries[: args.warmup], queries[args.warmup :]
        counts = Counter(q.kind for q in queries)
        print("  queries: " + ", ".join(f"{k} {counts[k]}" for k in KIND_WEIGHTS))

        log = TMP / f"frontdesk_bench_{name}_{os.getpid()}_server.log"
        server = Server({**os.environ, "DATABASE_URL": url}, log)
        browser = Browser(server.port)
        browser.sign_in("frontdesk", demo.password)
        print(f"  server on 127.0.0.1:{server.port} (waitress), signed in as frontdesk")

        timed_passes(warmup, browser.search, raw.run)
        started = time.monotonic()
        http_samples, raw_samples = timed_passes(queries, browser.search, raw.run)
        elapsed = time.monotonic() - started
        print(f"  timed {len(queries)} queries each way in {elapsed:.1f} s")
        # What every request costs before any searching: an empty search is the same URL,
        # session, sign-in and middleware, without the query, the audit event or any rows.
        floor = [browser.search("")[0] for _ in range(args.floor)]
        print(
            f"  request floor (GET /patients/?q= , no search, no audit, no rows) x{len(floor)}: "
            f"p50 {percentile(floor, 50):.1f} ms, p95 {percentile(floor, 95):.1f} ms"
        )
    finally:
        if server is not None:
            server.stop()

    http_report = summarise(db, http_samples)
    raw_report = summarise(db, raw_samples)
    wrong_lines = wrong_answers(db, http_samples, raw_samples)
    db.close()
    selector_times = selector_in_process(url, warmup, queries) if args.in_process else {}
    print_table(http_report, raw_report, selector_times)
    print_details(http_samples, raw_samples, wrong_lines, slowest=args.slowest)
    wrong = sum(not v.ok for k in http_report.values() for v in k.verdicts)
    all_h = [s.ms for s in http_samples]
    all_r = [s.ms for s in raw_samples]
    p95_h, p95_r = percentile(all_h, 95), percentile(all_r, 95)
    ratio = p95_h / p95_r
    print(f"  HTTP p95 / raw p95 = {ratio:.2f}; load average at end {load_average()}")
    if wrong:
        print(f"  {wrong} HTTP answers were wrong (see the table): the goal cannot be met")

    if not args.keep and scratch:
        if url.startswith("sqlite"):
            for suffix in ("", "-wal", "-shm"):
                Path(sqlite_path(url) + suffix).unlink(missing_ok=True)
        else:
            pg_drop_database(url)
        credentials_path(url).unlink(missing_ok=True)
        print(f"  dropped the scratch database {url} and its credentials file")
    elif scratch:
        print(f"  kept the scratch database {url} (--keep)")

    if url.startswith("sqlite"):
        met = p95_h <= GOAL_P95_MS and not wrong
        goal = f"p95 <= {GOAL_P95_MS:.0f} ms"
        baseline = f"raw SQL (FTS5 trigram) p95 {p95_r:.1f} ms"
    else:
        met = p95_h <= GOAL_P95_MS and ratio <= GOAL_RATIO and not wrong
        goal = f"p95 <= {GOAL_P95_MS:.0f} ms and <= {GOAL_RATIO}x raw"
        baseline = f"raw SQL (pg_trgm) p95 {p95_r:.1f} ms"
    print(
        f"bench {name}: p95 {p95_h:.1f} ms over HTTP ({ratio:.2f}x vs {baseline}); "
        f"goal {goal}: {'met' if met else 'missed'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
