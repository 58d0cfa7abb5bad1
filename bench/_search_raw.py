"""The raw SQL side of bench/patient_search.py: what a DBA would write straight against
patients_patient, without Django (pg_trgm on PostgreSQL, an FTS5 trigram table on SQLite)."""

from __future__ import annotations

import time
from typing import Any

from _search_data import Database
from _search_queries import LIMIT, Query

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
