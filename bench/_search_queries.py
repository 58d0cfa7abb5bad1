"""The queries of bench/patient_search.py, drawn from the data with a seeded RNG, and the
verification of the rows a search shows: does each fit the query?"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA

from _search_data import TARGET_COLUMNS, Database, Target
from frontdesk.patients.matching.records import normalise_name

LIMIT = 20

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
