"""The duplicates scan: likely duplicate pairs over the whole patient index, in one batch.

The same scorer as registration (`matching.verdict.match_score`) judges every pair; what differs is
how the pairs to score are found. Registration looks up one new record's candidates in the
database. A batch over a million patients cannot score every pair (5 x 10^11 of them), nor
run one query per patient, so it blocks in memory:

1. Read. Active patients stream from one query (only the columns the scorer reads, ordered
   by clinic and birth date), each packed into one shared byte buffer. Worker processes
   compute each record's `blocking_keys`, paired with its clinic (patients of different
   clinics are never paired: they cannot be merged) and hashed to 64-bit integers whose
   lowest four bits carry the key's kind (birth date, name code and year, town and name...).
2. Group. A key shared by more than `key_cap` patients is skipped and counted: a town with
   a common family name says little about any one pair of its people, and a group of n
   costs n^2 / 2 comparisons. The other keys' members go into one flat array.
3. Compare. For each patient, its partners further down the index (so each pair is made
   once) are gathered from its key groups, by kind. A partner must share keys of at least
   `min_key_kinds` kinds: birth date and name, name and town, phone and name. One kind alone
   (only the birth date, or only a town and a family name) is how strangers meet: on the
   1,000,000-patient demo such pairs number 358 million (cap 500), against 3.8 million that
   share two kinds, and every one of the demo's 30,000 planted duplicates shares two. The
   pairs left are scored with `match_score`, later record first as at registration, and
   those at or above the minimum are reported.

The default cap, 200, is a measured trade (bench/duplicates_report.py, the 1,000,000-patient
demo): against a cap of 500 it compares 2.2 million pairs instead of 3.8 million, runs in
about 205 s instead of 250 s on this project's 2-core machine, and misses 11 more of the
30,000 planted duplicates (their other shared keys are too common).

The index is read in birth-date order, so partners born the same year are near each other
and are scored at once, while the scorer's cache of prepared records (16,384) holds them;
partners further apart are scored afterwards, town by town. Workers are forked (`workers`
> 1): they inherit the buffers without a copy, and never touch the database.

The export and the supervisors' page (`duplicates_report.py`) use the pairs found here.
"""

from __future__ import annotations

import datetime as dt
import marshal
import math
import multiprocessing
import sys
import time
from array import array
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

from tqdm import tqdm

from frontdesk.patients.matching.records import PersonRecord, blocking_keys
from frontdesk.patients.matching.verdict import (
    EXISTING_PATIENT_THRESHOLD,
    WARNING_THRESHOLD,
    match_score,
)
from frontdesk.patients.models import Patient

#: A key shared by more patients than this is skipped as uninformative.
DEFAULT_KEY_CAP: Final = 200
#: A pair is scored when it shares keys of at least this many kinds.
DEFAULT_MIN_KEY_KINDS: Final = 2
READ_CHUNK: Final = 5_000  # rows per worker task while reading
COMPARE_CHUNK: Final = 2_000  # patients per worker task while comparing
FAR_CHUNK: Final = 10_000  # pairs per worker task (at least) while comparing across years

VERY_LIKELY: Final = "very likely the same"
POSSIBLE: Final = "possible"

# The columns the scorer reads, in the order they are packed. Names the model's fields.
_COLUMNS: Final = (
    "clinic_id",
    "mrn",
    "given_name",
    "middle_name",
    "family_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "suffix",
)
# Kinds of `blocking_keys`, by the letter before the colon (birth date; name code with birth
# year; with day and month; both name codes; place with a name or street; place with a house
# number; street with a house number; phone; email). Any other letter is kind 15.
_KIND_BITS: Final = 4
_KIND_MASK: Final = (1 << _KIND_BITS) - 1
_KINDS: Final = {letter: kind for kind, letter in enumerate("dymnphate")}

# A packed record: the `_COLUMNS` values with the birth date as an ordinal.
_Packed = tuple[int, str, str, str, str, int, str, str, str, str, str, str, str, str, str]


def min_score_parse(value: str) -> float:
    """`warning`, `existing` or a number of bits, as the command's --min-score takes it."""
    named = {"warning": WARNING_THRESHOLD, "existing": EXISTING_PATIENT_THRESHOLD}
    if value.strip().lower() in named:
        return named[value.strip().lower()]
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def verdict_of(score: float) -> str:
    return VERY_LIKELY if score >= EXISTING_PATIENT_THRESHOLD else POSSIBLE


@dataclass(frozen=True)
class DuplicatePair:
    patient_id_a: int
    mrn_a: str
    name_a: str
    birth_date_a: dt.date
    patient_id_b: int
    mrn_b: str
    name_b: str
    birth_date_b: dt.date
    score: float
    probability: float
    reasons: tuple[str, ...]
    clinic_id: int  # both patients' (pairs never cross clinics)

    @property
    def verdict(self) -> str:
        return verdict_of(self.score)

    def as_row(self) -> dict[str, str | float]:
        return {
            "mrn_a": self.mrn_a,
            "name_a": self.name_a,
            "birth_date_a": self.birth_date_a.isoformat(),
            "mrn_b": self.mrn_b,
            "name_b": self.name_b,
            "birth_date_b": self.birth_date_b.isoformat(),
            "score": round(self.score, 2),
            "probability": round(self.probability, 6),
            "verdict": self.verdict,
            "reasons": "; ".join(self.reasons),
        }


@dataclass
class ScanStats:
    patients: int = 0
    keys: int = 0  # distinct keys shared by two patients or more, the skipped ones included
    keys_skipped: int = 0  # shared by more than key_cap patients
    key_cap: int = DEFAULT_KEY_CAP
    min_key_kinds: int = DEFAULT_MIN_KEY_KINDS
    compared: int = 0  # pairs scored
    very_likely: int = 0
    possible: int = 0
    seconds: float = 0.0

    @property
    def pairs(self) -> int:
        return self.very_likely + self.possible


# ---------------------------------------------------------------------------------------------
# Records, packed


class _Records:
    """Every scanned patient's columns in one byte buffer, so forked workers read them without
    touching (and so copying) a million Python objects."""

    def __init__(self) -> None:
        self.ids: array[int] = array("q")
        self.buffer = bytearray()
        self.offsets: array[int] = array("q", [0])

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, patient_id: int, packed: bytes) -> None:
        self.ids.append(patient_id)
        self.buffer += packed
        self.offsets.append(len(self.buffer))

    def packed(self, index: int) -> _Packed:
        raw = self.buffer[self.offsets[index] : self.offsets[index + 1]]
        values: _Packed = marshal.loads(raw)  # noqa: S302 - bytes this process packed itself
        return values


def _pack(row: Sequence[Any]) -> bytes:
    """One row of `_COLUMNS` as marshal bytes, the birth date as an ordinal.

    The text columns are NOT NULL (blank is ""), so they go in as they come.
    """
    return marshal.dumps((*row[:5], row[5].toordinal(), *row[6:]))


def _person(values: _Packed) -> PersonRecord:
    return PersonRecord(
        given_name=values[2],
        middle_name=values[3],
        family_name=values[4],
        birth_date=dt.date.fromordinal(values[5]),
        sex=values[6],
        phone=values[7],
        email=values[8],
        address_line1=values[9],
        address_line2=values[10],
        city=values[11],
        state=values[12],
        postal_code=values[13],
        suffix=values[14],
    )


def _display_name(values: _Packed) -> str:
    given = " ".join(part for part in (values[2], values[3]) if part)
    return f"{values[4]}, {given}"


def _key_hashes(packed_rows: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Each record's blocking keys as 64-bit hashes with the kind in the low bits.

    Python's string hash is salted per interpreter; the workers are forked, so they share
    the parent's salt and agree with each other.
    """
    counts: array[int] = array("q")
    hashes: array[int] = array("q")
    kinds = _KINDS
    for raw in packed_rows:
        values: _Packed = marshal.loads(raw)  # noqa: S302 - bytes this process packed itself
        clinic = values[0]
        keys = blocking_keys(_person(values))
        counts.append(len(keys))
        for key in keys:
            hashes.append((hash((clinic, key)) & ~_KIND_MASK) | kinds.get(key[0], _KIND_MASK))
    return counts.tobytes(), hashes.tobytes()


# ---------------------------------------------------------------------------------------------
# The scan


@dataclass
class _Index:
    """What the comparing workers read: the records and the kept key groups."""

    records: _Records
    key_offsets: array[int]  # record i's groups are key_groups[key_offsets[i]:...[i + 1]]
    key_groups: array[int]
    group_starts: array[int]  # group g's members are members[group_starts[g]:...[g + 1]]
    group_kinds: bytes
    members: array[int]  # record indexes, ascending within each group
    min_score: float
    min_key_kinds: int


# Partners this close in birth-date order are scored as they are found, while the scorer's
# cache (16,384 prepared records) still holds them; the rest are scored afterwards, town by
# town (see `_far_pairs_order`).
_NEAR: Final = 10_000
# The index a forked comparing worker inherited (set by `_worker_init`).
_WORKER_INDEX: _Index | None = None

# A pair scored at or above the minimum: (i, j, score, probability, reasons).
_Found = tuple[int, int, float, float, tuple[str, ...]]


@dataclass
class _Compared:
    found: list[_Found]
    compared: int
    far: tuple[bytes, bytes]  # pairs left for later: the i and the j, as array("q") bytes


def _worker_init(index: _Index) -> None:
    global _WORKER_INDEX  # per-process state of a forked pool worker
    _WORKER_INDEX = index


def _worker_index() -> _Index:
    if _WORKER_INDEX is None:
        raise RuntimeError("The worker was started without its index.")
    return _WORKER_INDEX


def _compare_in_worker(bounds: tuple[int, int]) -> _Compared:
    return _compare(_worker_index(), *bounds)


def _score_in_worker(pairs: tuple[bytes, bytes]) -> list[_Found]:
    return _score_packed(_worker_index(), pairs)


def _score_packed(index: _Index, pairs: tuple[bytes, bytes]) -> list[_Found]:
    firsts: array[int] = array("q")
    seconds: array[int] = array("q")
    firsts.frombytes(pairs[0])
    seconds.frombytes(pairs[1])
    return _score(index, zip(firsts, seconds, strict=True))


def _partners(index: _Index, i: int) -> set[int]:
    """The records after i that share keys of at least `min_key_kinds` kinds with it."""
    members, group_starts, group_kinds = index.members, index.group_starts, index.group_kinds
    spans: dict[int, list[tuple[int, int]]] = {}
    sizes: dict[int, int] = {}
    for group in index.key_groups[index.key_offsets[i] : index.key_offsets[i + 1]]:
        end = group_starts[group + 1]
        after = bisect_right(members, i, group_starts[group], end)
        if after < end:
            kind = group_kinds[group]
            if kind in spans:
                spans[kind].append((after, end))
                sizes[kind] += end - after
            else:
                spans[kind] = [(after, end)]
                sizes[kind] = end - after
    need = index.min_key_kinds
    if len(spans) < need:
        return set()
    if need == 1:
        return {j for pieces in spans.values() for a, b in pieces for j in members[a:b]}
    # at_least[k]: partners met in more than k of the kinds so far. The kind with the most
    # partners (usually town and name) is only intersected with them, never copied into a
    # set: it is most of the work, and on its own it proves nothing.
    largest = max(sizes, key=sizes.__getitem__)
    at_least: list[set[int]] = [set() for _ in range(need - 1)]
    found: set[int] = set()
    for kind, pieces in spans.items():
        if kind == largest:
            continue
        current = set(members[pieces[0][0] : pieces[0][1]])
        for a, b in pieces[1:]:
            current.update(members[a:b])
        found |= at_least[-1] & current
        for k in range(need - 2, 0, -1):
            at_least[k] |= at_least[k - 1] & current
        at_least[0] |= current
    if at_least[-1]:
        for a, b in spans[largest]:
            found |= at_least[-1].intersection(members[a:b])
    return found


def _score(index: _Index, pairs: Iterable[tuple[int, int]]) -> list[_Found]:
    """Score each pair as registration scored the later record against the earlier one.

    `match_score` is symmetric, so the order only fixes which record the reasons name first.
    """
    records, ids, min_score = index.records, index.records.ids, index.min_score
    found: list[_Found] = []
    # One task's pairs involve some thousands of records, each in several pairs.
    people: dict[int, PersonRecord] = {}
    for i, j in pairs:
        first = people.get(i)
        if first is None:
            first = people[i] = _person(records.packed(i))
        second = people.get(j)
        if second is None:
            second = people[j] = _person(records.packed(j))
        later, earlier = (first, second) if ids[i] > ids[j] else (second, first)
        result = match_score(later, earlier)
        if result.score >= min_score:
            found.append((i, j, result.score, result.probability, result.reasons))
    return found


def _compare(index: _Index, start: int, stop: int) -> _Compared:
    """Score the pairs (i, j), start <= i < stop, j > i, that share keys of enough kinds and
    are near in birth-date order; hand back the others."""
    near: list[tuple[int, int]] = []
    far_i: array[int] = array("q")
    far_j: array[int] = array("q")
    compared = 0
    for i in range(start, stop):
        partners = _partners(index, i)
        compared += len(partners)
        for j in sorted(partners):
            if j - i < _NEAR:
                near.append((i, j))
            else:
                far_i.append(i)
                far_j.append(j)
    return _Compared(_score(index, near), compared, (far_i.tobytes(), far_j.tobytes()))


def _far_pairs_order(
    records: _Records, far_i: array[int], far_j: array[int], chunk: int
) -> list[tuple[bytes, bytes]]:
    """The far pairs in chunks, ordered by the two records' towns.

    Most far pairs share a town (namesakes, neighbours, a household) and a town has some
    thousands of patients, so taken town by town the scorer's cache holds a town's records
    while they are compared: on the 1,000,000-patient demo each record is then prepared
    about once in this phase (cache misses came to the number of distinct records).
    """
    towns: dict[str, int] = {}
    town_of: dict[int, int] = {}

    def town(index: int) -> int:
        number = town_of.get(index)
        if number is None:
            values = records.packed(index)
            name = f"{values[11]}\x1f{values[13]}".casefold()  # city and postal code
            number = town_of[index] = towns.setdefault(name, len(towns))
        return number

    firsts = [town(i) for i in far_i]
    seconds = [town(j) for j in far_j]
    town_of.clear()
    width, count = len(towns), len(records)
    places = [a * width + b for a, b in zip(firsts, seconds, strict=True)]
    del firsts, seconds
    order = sorted(range(len(places)), key=lambda k: places[k] * count + far_i[k])
    chunks = []
    start = 0
    while start < len(order):
        # A chunk ends where a pair of towns does, once it is big enough: one worker then
        # sees all of a town's pairs, and its cache all of the town's records.
        stop = min(start + chunk, len(order))
        limit = min(start + 3 * chunk, len(order))
        while stop < limit and places[order[stop]] == places[order[stop - 1]]:
            stop += 1
        part = order[start:stop]
        chunks.append(
            (
                array("q", [far_i[k] for k in part]).tobytes(),
                array("q", [far_j[k] for k in part]).tobytes(),
            )
        )
        start = stop
    return chunks


def _pool(workers: int, **kwargs: Any) -> Any:
    # Forked, the children inherit the parent's memory (the index, the string-hash salt)
    # without a copy. They inherit its database connection too, and never touch it: they
    # only compute, and leave by os._exit (or SIGTERM from terminate), running no finalizer.
    return multiprocessing.get_context("fork").Pool(workers, **kwargs)


@dataclass
class _Read:
    records: _Records
    key_offsets: array[int]  # record i's key hashes are key_hashes[key_offsets[i]:...[i + 1]]
    key_hashes: array[int]
    key_counts: Counter[int]  # patients per key hash


def _read(*, clinic_id: int | None, workers: int, progress: bool) -> _Read:
    patients = Patient.objects.filter(is_active=True)
    if clinic_id is not None:
        patients = patients.filter(clinic_id=clinic_id)
    total = patients.count()
    read = _Read(_Records(), array("q", [0]), array("q"), Counter())

    def collect(counts_raw: bytes, hashes_raw: bytes) -> None:
        counts: array[int] = array("q")
        counts.frombytes(counts_raw)
        hashes: array[int] = array("q")
        hashes.frombytes(hashes_raw)
        read.key_hashes.extend(hashes)
        read.key_counts.update(hashes)
        offsets, last = read.key_offsets, read.key_offsets[-1]
        for count in counts:
            last += count
            offsets.append(last)
        bar.update(len(counts))

    with _progress(total, "reading", progress) as bar:
        pool = _pool(workers) if workers > 1 else None
        try:
            # The query runs in this thread (Django's connections are per thread); the workers
            # get packed chunks, a few at a time, and their answers are taken in order.
            rows = (
                patients.order_by("clinic_id", "birth_date", "id")
                .values_list("id", *_COLUMNS)
                .iterator(chunk_size=READ_CHUNK)
            )
            pending: deque[Any] = deque()
            while batch := list(islice(rows, READ_CHUNK)):
                packed = [_pack(row[1:]) for row in batch]
                for row, raw in zip(batch, packed, strict=True):
                    read.records.add(row[0], raw)
                if pool is None:
                    collect(*_key_hashes(packed))
                    continue
                pending.append(pool.apply_async(_key_hashes, (packed,)))
                while len(pending) > 2 * workers:
                    collect(*pending.popleft().get())
            while pending:
                collect(*pending.popleft().get())
        finally:
            if pool is not None:
                pool.terminate()
    return read


def _index_build(
    read: _Read, *, key_cap: int, min_score: float, min_key_kinds: int, stats: ScanStats
) -> _Index:
    """Number the keys shared by 2 to `key_cap` patients and list each one's members; the
    key hashes are not needed after this."""
    group_of: dict[int, int] = {}
    group_starts: array[int] = array("q", [0])
    group_kinds = bytearray()
    for key, size in read.key_counts.items():
        if size < 2:
            continue
        stats.keys += 1
        if size > key_cap:
            stats.keys_skipped += 1
            continue
        group_of[key] = len(group_of)
        group_starts.append(group_starts[-1] + size)
        group_kinds.append(key & _KIND_MASK)
    read.key_counts.clear()
    members: array[int] = array("i", bytes(4 * group_starts[-1]))
    cursor = array("q", group_starts)
    key_offsets: array[int] = array("q", [0])
    key_groups: array[int] = array("i")
    hashes, offsets, get = read.key_hashes, read.key_offsets, group_of.get
    for i in range(len(offsets) - 1):
        for h in hashes[offsets[i] : offsets[i + 1]]:
            group = get(h)
            if group is not None:
                members[cursor[group]] = i
                cursor[group] += 1
                key_groups.append(group)
        key_offsets.append(len(key_groups))
    return _Index(
        records=read.records,
        key_offsets=key_offsets,
        key_groups=key_groups,
        group_starts=group_starts,
        group_kinds=bytes(group_kinds),
        members=members,
        min_score=min_score,
        min_key_kinds=max(min_key_kinds, 1),
    )


def duplicate_pairs_scan(
    *,
    on_pair: Callable[[DuplicatePair], None],
    clinic_id: int | None = None,
    min_score: float = WARNING_THRESHOLD,
    key_cap: int = DEFAULT_KEY_CAP,
    min_key_kinds: int = DEFAULT_MIN_KEY_KINDS,
    workers: int = 1,
    progress: bool = False,
) -> ScanStats:
    """Find likely duplicate pairs among active patients (of one clinic, or all), each pair
    once, calling `on_pair` for every pair scoring at least `min_score`.

    `workers` > 1 forks that many processes to compute keys and score pairs.
    """
    started = time.monotonic()
    stats = ScanStats(key_cap=key_cap, min_key_kinds=min_key_kinds)
    read = _read(clinic_id=clinic_id, workers=workers, progress=progress)
    records = read.records
    stats.patients = len(records)
    index = _index_build(
        read, key_cap=key_cap, min_score=min_score, min_key_kinds=min_key_kinds, stats=stats
    )
    del read
    bounds = [
        (start, min(start + COMPARE_CHUNK, len(records)))
        for start in range(0, len(records), COMPARE_CHUNK)
    ]
    far_i: array[int] = array("q")
    far_j: array[int] = array("q")

    def take(found: list[_Found]) -> None:
        for i, j, score, probability, reasons in found:
            if score >= EXISTING_PATIENT_THRESHOLD:
                stats.very_likely += 1
            else:
                stats.possible += 1
            on_pair(_pair(records, i, j, score, probability, reasons))

    pool = _pool(workers, initializer=_worker_init, initargs=(index,)) if workers > 1 else None
    try:
        with _progress(len(records), "comparing", progress, " patients") as bar:
            compared: Iterable[_Compared] = (
                pool.imap(_compare_in_worker, bounds)
                if pool is not None
                else (_compare(index, start, stop) for start, stop in bounds)
            )
            for (start, stop), result in zip(bounds, compared, strict=True):
                stats.compared += result.compared
                take(result.found)
                far_i.frombytes(result.far[0])
                far_j.frombytes(result.far[1])
                bar.update(stop - start)
        chunks = _far_pairs_order(records, far_i, far_j, FAR_CHUNK)
        with _progress(len(far_i), "comparing across years", progress, " pairs") as bar:
            del far_i, far_j
            scored: Iterable[list[_Found]] = (
                pool.imap(_score_in_worker, chunks)
                if pool is not None
                else (_score_packed(index, chunk) for chunk in chunks)
            )
            for chunk, found in zip(chunks, scored, strict=True):
                take(found)
                bar.update(len(chunk[0]) // 8)
    finally:
        if pool is not None:
            pool.terminate()
    stats.seconds = time.monotonic() - started
    return stats


def _pair(
    records: _Records, i: int, j: int, score: float, probability: float, reasons: tuple[str, ...]
) -> DuplicatePair:
    # The record registered first (the lower id) first.
    if records.ids[j] < records.ids[i]:
        i, j = j, i
    first, second = records.packed(i), records.packed(j)
    return DuplicatePair(
        patient_id_a=records.ids[i],
        mrn_a=first[1],
        name_a=_display_name(first),
        birth_date_a=dt.date.fromordinal(first[5]),
        patient_id_b=records.ids[j],
        mrn_b=second[1],
        name_b=_display_name(second),
        birth_date_b=dt.date.fromordinal(second[5]),
        score=score,
        probability=probability,
        reasons=reasons,
        clinic_id=first[0],
    )


def duplicate_pairs_find(
    *,
    clinic_id: int | None = None,
    min_score: float = WARNING_THRESHOLD,
    key_cap: int = DEFAULT_KEY_CAP,
    min_key_kinds: int = DEFAULT_MIN_KEY_KINDS,
    workers: int = 1,
) -> tuple[list[DuplicatePair], ScanStats]:
    """`duplicate_pairs_scan` collecting the pairs in a list (for small indexes and tests)."""
    pairs: list[DuplicatePair] = []
    stats = duplicate_pairs_scan(
        on_pair=pairs.append,
        clinic_id=clinic_id,
        min_score=min_score,
        key_cap=key_cap,
        min_key_kinds=min_key_kinds,
        workers=workers,
    )
    return pairs, stats


def _progress(total: int, label: str, enabled: bool, unit: str = " patients") -> Any:
    return tqdm(
        total=total,
        desc=label,
        unit=unit,
        file=sys.stderr,
        disable=not enabled,
        smoothing=0.1,
    )
