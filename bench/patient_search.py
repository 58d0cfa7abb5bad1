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
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from rapidfuzz.distance import OSA

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _server import Server  # noqa: E402  (bench/_server.py, beside this script)
from frontdesk.patients.matching.records import normalise_name  # noqa: E402  (pure Python, no Django)

BIN = ROOT / ".venv" / "bin"
SCRATCH_DB = "frontdesk_bench_search"
DEFAULT_PG_URL = f"postgres://postgres@127.0.0.1:5432/{SCRATCH_DB}"
TMP = Path(tempfile.gettempdir())  # /tmp here
SCRATCH_SQLITE = TMP / "frontdesk_bench_search.sqlite3"
CREDENTIALS_DIR = ROOT / "var" / "bench"
LIMIT = 20
GOAL_P95_MS = 30.0
GOAL_RATIO = 1.5

# Share of each kind in the mix (the order is also the report's order).
KIND_WEIGHTS = {
    "prefix": 14,  # "smi": a family-name prefix, 3-5 letters
    "family_given": 11,  # "smith jo"
    "given_family": 11,  # "jo smith"
    "comma": 10,  # "Smith, John"
    "typo": 14,  # "smtih": one swap, deletion or replacement in a family name of 5+ letters
    "date_iso": 8,  # "1980-01-02"
    "date_mdy": 8,  # "01/02/1980"
    "phone": 12,  # "(202) 555-0143", "202-555-0143", "+1 202 555 0143", ...
    "last4": 6,  # "0143"
    "mrn": 6,
}


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


@dataclass
class Target:
    """A patient a query is drawn from, with what verification needs."""

    id: int
    mrn: str
    family_name: str
    given_name: str
    preferred_name: str
    family_norm: str
    given_norm: str
    preferred_norm: str
    birth_date: str  # ISO
    phone: str
    phone_alt: str


TARGET_COLUMNS = (
    "id, mrn, family_name, given_name, preferred_name, family_norm, given_norm, "
    "preferred_norm, birth_date, phone, phone_alt"
)


class Database:
    """One connection through psycopg or sqlite3, with the vendor's placeholder style."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.vendor = "sqlite" if url.startswith("sqlite") else "postgresql"
        self.conn: Any
        if self.vendor == "sqlite":
            self.conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)

    def sql(self, text: str) -> str:
        return text.replace("%s", "?") if self.vendor == "sqlite" else text

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.execute(self.sql(text), params)
        return list(cursor.fetchall())

    def execute(self, text: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self.sql(text), params)

    def close(self) -> None:
        self.conn.close()


def sqlite_path(url: str) -> str:
    # sqlite:////tmp/x.sqlite3 -> /tmp/x.sqlite3 (dj-database-url's form)
    return urllib.parse.urlparse(url).path


def pg_admin_url(url: str) -> str:
    parts = urllib.parse.urlparse(url)
    return urllib.parse.urlunparse(parts._replace(path="/postgres"))


def pg_database_name(url: str) -> str:
    return urllib.parse.urlparse(url).path.lstrip("/")


def pg_database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(pg_admin_url(url), autocommit=True) as admin:
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (pg_database_name(url),)
        ).fetchone()
    return found is not None


def pg_create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_admin_url(url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_database_name(url))))


def pg_drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_admin_url(url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(pg_database_name(url))
            )
        )


def frontdesk(url: str, *args: str, quiet: bool = False) -> str:
    """Run the frontdesk command against this database; its stdout (progress goes to stderr)."""
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run(
        [str(BIN / "frontdesk"), *args],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    return result.stdout


def credentials_path(url: str) -> Path:
    """Where the demo's staff sign-ins for this database are kept (var/ is not committed)."""
    if url.startswith("sqlite"):
        name = "sqlite-" + Path(sqlite_path(url)).stem
    else:
        name = pg_database_name(url)
    return CREDENTIALS_DIR / f"{name}.credentials"


@dataclass(frozen=True)
class DemoDatabase:
    url: str
    password: str  # the front_desk user's
    created: bool
    build_seconds: float


def demo_database_ready(url: str, patients: int, *, scratch: bool) -> DemoDatabase:
    """Create (if scratch and missing), migrate and load the demo; reuse a loaded one."""
    created = False
    if url.startswith("sqlite"):
        created = not Path(sqlite_path(url)).exists()
    elif scratch and not pg_database_exists(url):
        pg_create_database(url)
        created = True
    started = time.monotonic()
    frontdesk(url, "migrate", "--noinput", "-v", "0")
    frontdesk(url, "collectstatic", "--noinput", "-v", "0")
    credentials = credentials_path(url)
    out = frontdesk(url, "demo", "--patients", str(patients), "--credentials", str(credentials))
    elapsed = time.monotonic() - started
    first = out.splitlines()[0] if out else ""
    print(f"  demo: {first}")
    password = ""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "front_desk":
            password = parts[2]
    if not password:
        raise SystemExit("The demo printed no front_desk sign-in; is this a demo database?")
    return DemoDatabase(url, password, created or "Built the demo" in first, elapsed)


# ---------------------------------------------------------------------------------------------
# Queries


@dataclass
class Query:
    kind: str
    text: str
    target: Target
    # What a shown row must satisfy, and (typos) the family name that must be among them.
    intended_family: str = ""
    tokens: tuple[str, ...] = ()


def _typo(rng: random.Random, name: str) -> str:
    position = rng.randrange(len(name))
    kind = rng.choice(("swap", "delete", "replace"))
    if kind == "swap" and position + 1 < len(name) and name[position] != name[position + 1]:
        return name[:position] + name[position + 1] + name[position] + name[position + 2 :]
    if kind == "delete":
        return name[:position] + name[position + 1 :]
    letters = "abcdefghijklmnopqrstuvwxyz".replace(name[position].lower(), "")
    replaced = rng.choice(letters)
    if name[position].isupper():
        replaced = replaced.upper()
    return name[:position] + replaced + name[position + 1 :]


def _phone_formats(e164: str) -> list[str]:
    national = e164[2:]  # +1 and ten digits in the demo
    area, exchange, line = national[:3], national[3:6], national[6:]
    return [
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        national,
        f"+1 {area} {exchange} {line}",
        e164,
    ]


def _date_text(iso: str, kind: str, rng: random.Random) -> str:
    year, month, day = iso.split("-")
    if kind == "date_iso":
        return iso
    if rng.random() < 0.5:
        return f"{month}/{day}/{year}"
    return f"{int(month)}/{int(day)}/{year}"


def _cased(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.5:
        return text.lower()
    if roll < 0.8:
        return text
    return text.upper()


def sample_targets(db: Database, clinic_id: int, count: int, rng: random.Random) -> list[Target]:
    """Patients picked uniformly by id from the clinic's active, unmerged patients."""
    low, high = db.rows(
        "SELECT min(id), max(id) FROM patients_patient WHERE clinic_id = %s", (clinic_id,)
    )[0]
    targets: list[Target] = []
    seen: set[int] = set()
    while len(targets) < count:
        ids = [rng.randint(low, high) for _ in range(count * 2)]
        ids = [i for i in ids if i not in seen]
        seen.update(ids)
        marks = ",".join(["%s"] * len(ids))
        rows = db.rows(
            f"SELECT {TARGET_COLUMNS} FROM patients_patient WHERE id IN ({marks}) "
            "AND clinic_id = %s AND is_active AND merged_into_id IS NULL",
            (*ids, clinic_id),
        )
        by_id = {row[0]: row for row in rows}
        for i in ids:  # in drawn order, so the sample does not depend on the row order
            row = by_id.get(i)
            if row is not None and len(targets) < count:
                targets.append(_target(row))
    return targets


def _target(row: Sequence[Any]) -> Target:
    values = list(row)
    values[8] = str(values[8])
    return Target(*values)


def build_queries(
    db: Database, clinic_id: int, count: int, seed: int, family_norms: set[str]
) -> list[Query]:
    rng = random.Random(f"frontdesk-bench-search:{seed}")
    targets = sample_targets(db, clinic_id, count * 3, rng)
    kinds = [k for k, w in KIND_WEIGHTS.items() for _ in range(w)]
    queries: list[Query] = []
    pool = iter(targets)
    while len(queries) < count:
        kind = (
            kinds[len(queries) * len(kinds) // count] if count >= len(kinds) else rng.choice(kinds)
        )
        made = None
        while made is None:
            made = _query(kind, next(pool), rng, family_norms)
        queries.append(made)
    rng.shuffle(queries)
    return queries


def _query(kind: str, t: Target, rng: random.Random, family_norms: set[str]) -> Query | None:
    family, given = t.family_name, t.given_name
    if not (family.isalpha() and given.isalpha()):
        return None  # "O'Brien", "Smith-Jones": typed several ways; not what this measures
    if kind == "prefix":
        if len(t.family_norm) < 4:
            return None
        fragment = family[: rng.randint(3, min(5, len(family) - 1))]
        return Query(kind, _cased(rng, fragment), t, tokens=(normalise_name(fragment),))
    if kind in ("family_given", "given_family"):
        fam = family[: rng.randint(min(4, len(family)), len(family))]
        giv = given[: rng.randint(min(2, len(given)), len(given))]
        text = f"{fam} {giv}" if kind == "family_given" else f"{giv} {fam}"
        return Query(kind, _cased(rng, text), t, tokens=(normalise_name(fam), normalise_name(giv)))
    if kind == "comma":
        text = f"{family}, {given}" if rng.random() < 0.7 else f"{family},{given}"
        return Query(kind, _cased(rng, text), t, tokens=(t.family_norm, t.given_norm))
    if kind == "typo":
        if len(t.family_norm) < 5 or not family.isalpha():
            return None
        for _ in range(20):
            typed = _typo(rng, family)
            # A "typo" that is another family name in the data is just that name.
            if normalise_name(typed) not in family_norms:
                return Query(kind, _cased(rng, typed), t, intended_family=t.family_norm)
        return None
    if kind in ("date_iso", "date_mdy"):
        return Query(kind, _date_text(t.birth_date, kind, rng), t)
    if kind == "phone":
        if not t.phone:
            return None
        return Query(kind, rng.choice(_phone_formats(t.phone)), t)
    if kind == "last4":
        if not t.phone:
            return None
        return Query(kind, t.phone[-4:], t)
    if kind == "mrn":
        return Query(kind, t.mrn, t)
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------
# Verification: does a shown row fit the query?


def _starts(value: str, fragment: str) -> bool:
    return bool(fragment) and value.startswith(fragment)


def _one_typo(value: str, typed: str) -> bool:
    """The search's documented fallback: a family name one edit or swap away from what was
    typed (two for 8+ letters), offered after the real matches."""
    if len(typed) < 4:
        return False
    return OSA.distance(value, typed) <= (1 if len(typed) < 8 else 2)


def _family_fits(value: str, typed: str) -> bool:
    return _starts(value, typed) or _one_typo(value, typed)


def _given_fits(row: Target, fragment: str) -> bool:
    return _starts(row.given_norm, fragment) or _starts(row.preferred_norm, fragment)


def row_fits(query: Query, row: Target) -> bool:
    t = query.target
    if query.kind == "prefix":
        (fragment,) = query.tokens
        return _family_fits(row.family_norm, fragment) or _given_fits(row, fragment)
    if query.kind in ("family_given", "given_family", "comma"):
        fam, giv = query.tokens
        if _family_fits(row.family_norm, fam) and _given_fits(row, giv):
            return True
        if query.kind == "comma":
            return False
        # "a b" may be read either way round, or as a double-barrelled family name.
        return (_family_fits(row.family_norm, giv) and _given_fits(row, fam)) or _family_fits(
            row.family_norm, f"{fam} {giv}"
        )
    if query.kind == "typo":
        return True  # checked as a whole: the intended family name must be among the rows
    if query.kind in ("date_iso", "date_mdy"):
        return row.birth_date == t.birth_date
    if query.kind == "phone":
        return t.phone in (row.phone, row.phone_alt)
    if query.kind == "last4":
        return row.phone.endswith(t.phone[-4:])
    if query.kind == "mrn":
        return row.mrn == t.mrn
    raise ValueError(query.kind)


def _readings(query: Query) -> list[tuple[str, str]]:
    fam, giv = query.tokens
    return [(fam, giv)] if query.kind == "comma" else [(fam, giv), (giv, fam)]


def _exactness(query: Query, row: Target) -> int:
    """For name queries: 3 = family and given typed in full, 2 = family in full, else 0."""
    best = 0
    for fam, giv in _readings(query):
        if not (_starts(row.family_norm, fam) and _given_fits(row, giv)):
            continue
        family_exact = row.family_norm == fam
        given_exact = giv in (row.given_norm, row.preferred_norm)
        best = max(best, 3 if family_exact and given_exact else 2 if family_exact else 0)
    return best


def _crowded(query: Query, rows: list[Target]) -> bool:
    """The target is not shown, but 20 rows that fit at least as exactly as it does are."""
    if len(rows) < LIMIT or not all(row_fits(query, r) for r in rows):
        return False
    if query.kind in ("family_given", "given_family", "comma"):
        wanted = _exactness(query, query.target)
        return all(_exactness(query, r) >= wanted for r in rows)
    return True


@dataclass
class Verdict:
    shown: int
    target_shown: bool
    all_fit: bool
    crowded: bool  # target not shown, but the page holds 20 rows that fit

    @property
    def ok(self) -> bool:
        return self.all_fit and (self.target_shown or self.crowded) and self.shown > 0


def verify(query: Query, rows: list[Target]) -> Verdict:
    target_shown = any(r.id == query.target.id for r in rows)
    if query.kind == "typo":
        hit = any(r.family_norm == query.intended_family for r in rows)
        return Verdict(len(rows), hit, True, False)
    all_fit = all(row_fits(query, r) for r in rows)
    crowded = not target_shown and _crowded(query, rows)
    return Verdict(len(rows), target_shown, all_fit, crowded)


def rows_by_mrn(db: Database, mrns: set[str]) -> dict[str, Target]:
    found: dict[str, Target] = {}
    items = sorted(mrns)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        marks = ",".join(["%s"] * len(chunk))
        for row in db.rows(
            f"SELECT {TARGET_COLUMNS} FROM patients_patient WHERE mrn IN ({marks})", chunk
        ):
            found[row[1]] = _target(row)
    return found


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

SHOWN = (
    "p.id, p.mrn, p.family_name, p.given_name, p.preferred_name, p.suffix, p.birth_date, "
    "p.phone, p.last_visit_on, p.confidentiality"
)
NAME_ORDER = "lower(p.family_name), lower(p.given_name), p.id"
# Names typed in full first (family and given, then family), as the search box ranks them.
_FULL = "(lower(p.family_name) = %s AND lower(p.given_name) = %s)"
EXACT_FIRST = (
    f" ORDER BY CASE WHEN {_FULL} THEN 0 WHEN lower(p.family_name) = %s THEN 1 ELSE 2 END, "
    f"{NAME_ORDER} LIMIT {LIMIT}"
)
EXACT_FIRST_PAIR = (
    f" ORDER BY CASE WHEN {_FULL} OR {_FULL} THEN 0 "
    "WHEN lower(p.family_name) IN (%s, %s) THEN 1 ELSE 2 END, "
    f"{NAME_ORDER} LIMIT {LIMIT}"
)


class RawSearch:
    """The hand-written SQL for each kind of query."""

    def __init__(self, db: Database, clinic_id: int) -> None:
        self.db = db
        self.clinic_id = clinic_id
        self.where = "p.clinic_id = %s AND p.is_active"

    def prepare(self) -> list[str]:
        """Create the baseline's indexes if missing; say what was done."""
        done = []
        if self.db.vendor == "postgresql":
            self.db.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for column in ("family_name", "given_name"):
                name = f"bench_patient_{column}_trgm"
                exists = self.db.rows("SELECT 1 FROM pg_class WHERE relname = %s", (name,))
                if not exists:
                    started = time.monotonic()
                    self.db.execute(
                        f"CREATE INDEX {name} ON patients_patient "
                        f"USING gin (lower({column}) gin_trgm_ops)"
                    )
                    done.append(f"built {name} in {time.monotonic() - started:.0f} s")
                else:
                    done.append(f"{name} present")
            # Autovacuum analyses a freshly loaded table on its own within a minute or so;
            # doing it here gives both sides the same, steady-state statistics.
            self.db.execute("ANALYZE patients_patient")
            done.append("ANALYZE patients_patient")
        else:
            exists = self.db.rows(
                "SELECT 1 FROM sqlite_master WHERE name = 'bench_patient_name_fts'"
            )
            if not exists:
                started = time.monotonic()
                self.db.execute(
                    "CREATE VIRTUAL TABLE bench_patient_name_fts USING fts5("
                    "family_name, given_name, content='patients_patient', content_rowid='id', "
                    "tokenize='trigram')"
                )
                self.db.execute(
                    "INSERT INTO bench_patient_name_fts(bench_patient_name_fts) VALUES('rebuild')"
                )
                done.append(f"built FTS5 trigram table in {time.monotonic() - started:.0f} s")
            else:
                done.append("FTS5 trigram table present")
        return done

    def run(self, query: Query) -> tuple[float, list[str]]:
        text, params = self.statement(query)
        started = time.perf_counter()
        rows = self.db.rows(text, params)
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, [row[1] for row in rows]

    def statement(self, query: Query) -> tuple[str, list[Any]]:
        t = query.target
        c = self.clinic_id
        head = f"SELECT {SHOWN} FROM patients_patient p WHERE {self.where}"
        tail = f" ORDER BY {NAME_ORDER} LIMIT {LIMIT}"
        if query.kind == "mrn":
            return f"{head} AND p.mrn = %s", [c, t.mrn]
        if query.kind in ("date_iso", "date_mdy"):
            return f"{head} AND p.birth_date = %s{tail}", [c, t.birth_date]
        if query.kind == "phone":
            return f"{head} AND (p.phone = %s OR p.phone_alt = %s){tail}", [c, t.phone, t.phone]
        if query.kind == "last4":
            return f"{head} AND p.phone_last4 = %s{tail}", [c, t.phone[-4:]]
        if self.db.vendor == "postgresql":
            return self._pg_names(query, head, tail)
        return self._sqlite_names(query, head, tail)

    def _pg_names(self, query: Query, head: str, tail: str) -> tuple[str, list[Any]]:
        c = self.clinic_id
        fam_like = "lower(p.family_name) LIKE %s"
        giv_like = "lower(p.given_name) LIKE %s"
        if query.kind == "prefix":
            (a,) = _lowered(query.text)
            return f"{head} AND ({fam_like} OR {giv_like}){tail}", [c, a + "%", a + "%"]
        if query.kind in ("family_given", "given_family"):
            a, b = _lowered(query.text)
            both = f"({fam_like} AND {giv_like}) OR ({fam_like} AND {giv_like})"
            params = [c, a + "%", b + "%", b + "%", a + "%", a, b, b, a, a, b]
            return f"{head} AND ({both}){EXACT_FIRST_PAIR}", params
        if query.kind == "comma":
            fam, _, giv = query.text.lower().partition(",")
            fam, giv = fam.strip(), giv.strip()
            params = [c, fam + "%", giv + "%", fam, giv, fam]
            return f"{head} AND {fam_like} AND {giv_like}{EXACT_FIRST}", params
        if query.kind == "typo":
            typed = query.text.lower()
            order = f"similarity(lower(p.family_name), %s) DESC, {NAME_ORDER}"
            text = f"{head} AND lower(p.family_name) %% %s ORDER BY {order} LIMIT {LIMIT}"
            return text, [c, typed, typed]
        raise ValueError(query.kind)

    def _sqlite_names(self, query: Query, head: str, tail: str) -> tuple[str, list[Any]]:
        c = self.clinic_id
        if query.kind == "prefix":
            (a,) = _lowered(query.text)
            ids = f"{_fts_ids([('family_name', a)])} UNION {_fts_ids([('given_name', a)])}"
            return f"{head} AND p.id IN ({ids}){tail}", [c, a + "%", a + "%"]
        if query.kind in ("family_given", "given_family"):
            a, b = _lowered(query.text)
            one = _fts_ids([("family_name", a), ("given_name", b)])
            other = _fts_ids([("family_name", b), ("given_name", a)])
            params = [c, a + "%", b + "%", b + "%", a + "%", a, b, b, a, a, b]
            return f"{head} AND p.id IN ({one} UNION {other}){EXACT_FIRST_PAIR}", params
        if query.kind == "comma":
            fam, _, giv = query.text.lower().partition(",")
            fam, giv = fam.strip(), giv.strip()
            ids = _fts_ids([("family_name", fam), ("given_name", giv)])
            params = [c, fam + "%", giv + "%", fam, giv, fam]
            return f"{head} AND p.id IN ({ids}){EXACT_FIRST}", params
        if query.kind == "typo":
            # FTS5 has no similarity: any of the typed name's trigrams, best bm25 rank first.
            typed = query.text.lower()
            grams = sorted({typed[i : i + 3] for i in range(len(typed) - 2)})
            match = "family_name : (" + " OR ".join(f'"{g}"' for g in grams) + ")"
            text = (
                f"SELECT {SHOWN} FROM bench_patient_name_fts f "
                "JOIN patients_patient p ON p.id = f.rowid "
                f"WHERE bench_patient_name_fts MATCH %s AND {self.where} "
                f"ORDER BY f.rank, {NAME_ORDER} LIMIT {LIMIT}"
            )
            return text, [match, c]
        raise ValueError(query.kind)


def _fts_ids(conditions: list[tuple[str, str]]) -> str:
    """Row ids whose names start with the given fragments (one %s each, in order): through the
    FTS5 trigram index for fragments of 3+ characters, which is all it can index, and on the
    table row for shorter ones (SQLite 3.40's FTS5 also crashes on some mixes of the two)."""
    terms = []
    for column, fragment in conditions:
        if len(fragment) >= 3:
            terms.append(f"f.{column} LIKE %s")
        else:
            terms.append(f"lower(q.{column}) LIKE %s")
    return (
        "SELECT f.rowid FROM bench_patient_name_fts f "
        "JOIN patients_patient q ON q.id = f.rowid WHERE " + " AND ".join(terms)
    )


def _lowered(text: str) -> list[str]:
    return text.lower().split()


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
