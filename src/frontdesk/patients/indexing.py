"""Derived search and matching columns of a patient, and the family-name dictionary.

Search never scans the patient table: exact and prefix searches are B-tree range scans on the
folded name columns; one-typo family names are looked up in an in-memory dictionary of the
distinct family names (RapidFuzz over a few thousand to a few hundred thousand strings takes
milliseconds) and then fetched by index. This is the same on SQLite and PostgreSQL, and it beat
pg_trgm similarity search and SQLite FTS5 trigram in bench/patient_search.py, because the
dictionary is orders of magnitude smaller than the patient table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max
from rapidfuzz import process
from rapidfuzz.distance import OSA

from frontdesk.patients.matching.records import (
    given_name_canonical,
    name_phonetic_key,
    normalise_name,
)
from frontdesk.patients.models import FamilyName, Patient, PatientAlias


def phone_last4(e164: str) -> str:
    digits = "".join(c for c in e164 if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


def patient_derive_fields(patient: Patient) -> Patient:
    """Fill the derived columns from the names and phone. Call before every save."""
    patient.family_norm = normalise_name(patient.family_name)[:100]
    patient.given_norm = normalise_name(patient.given_name)[:100]
    patient.preferred_norm = normalise_name(patient.preferred_name)[:100]
    patient.family_key = name_phonetic_key(patient.family_name)[:16]
    patient.given_key = name_phonetic_key(given_name_canonical(patient.given_name))[:16]
    patient.phone_last4 = phone_last4(patient.phone)
    return patient


def alias_derive_fields(alias: PatientAlias) -> PatientAlias:
    alias.family_norm = normalise_name(alias.family_name)[:100]
    return alias


def family_names_register(names: Iterable[str]) -> None:
    """Add folded family names to the dictionary (existing ones are skipped)."""
    rows = [FamilyName(name=name) for name in {n for n in names if n}]
    FamilyName.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)


@dataclass
class _Dictionary:
    version: int | None = None
    names: tuple[str, ...] = ()


_cache = _Dictionary()
_lock = threading.Lock()


def _dictionary() -> tuple[str, ...]:
    """The distinct family names, reloaded when another process has added one (one indexed
    MAX(id) query per call)."""
    version = FamilyName.objects.aggregate(top=Max("id"))["top"]
    if version != _cache.version:
        with _lock:
            if version != _cache.version:
                _cache.names = tuple(FamilyName.objects.values_list("name", flat=True))
                _cache.version = version
    return _cache.names


def family_names_within_one_typo(
    tokens: Iterable[str], *, limit: int = 40
) -> dict[str, list[tuple[str, int]]]:
    """For each typed token, the dictionary family names within one edit or swap of
    neighbours (two for long names) with their distance, nearest first (one dictionary check
    for all tokens)."""
    wanted = [token for token in dict.fromkeys(tokens) if len(token) >= 4]
    if not wanted:
        return {}
    names = _dictionary()
    found: dict[str, list[tuple[str, int]]] = {}
    for token in wanted:
        distance = 1 if len(token) < 8 else 2
        matches = process.extract(
            token, names, scorer=OSA.distance, score_cutoff=distance, limit=limit
        )
        near = [(name, int(score)) for name, score, _index in matches if name != token]
        if near:
            found[token] = sorted(near, key=lambda item: (item[1], item[0]))
    return found
