"""The demo's bulk writer: patient rows, their derived columns, coverage and demo money, in
batches through the driver's executemany (or COPY), for a million patients in minutes."""

from __future__ import annotations

import contextlib
import random
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection, models
from tqdm import tqdm

from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.clinic.models import Clinic
from frontdesk.demo.data import BATCH_SIZE
from frontdesk.demo.people import PatientRow
from frontdesk.patients.indexing import family_names_register, patient_derive_fields, phone_last4
from frontdesk.patients.models import ContactChannel, Coverage, Patient
from frontdesk.patients.mrn import mrn_reserve


class _RowWriter:
    """Inserts rows of one model with the driver's executemany, in the caller's transaction.

    `bulk_create` spends about 200 microseconds a row compiling SQL (measured: 4,300 patients a
    second on SQLite), which at a million patients is most of the five-minute budget; this
    sends the same rows through executemany (SQLite) or COPY (PostgreSQL) at a fraction of the
    cost. Columns come from the model, so a field added later gets its default (or fails
    loudly if it has none and is NOT NULL).
    """

    def __init__(self, model: type[models.Model]) -> None:
        ops = connection.ops
        # Generated columns (Coverage.member_id_norm) are the database's to write.
        fields = [
            field
            for field in model._meta.concrete_fields
            if not field.primary_key and not field.generated
        ]
        columns = [ops.quote_name(field.column or field.attname) for field in fields]
        # Only quoted identifiers from the model's metadata are formatted in; values are params.
        target = f"{ops.quote_name(model._meta.db_table)} ({', '.join(columns)})"
        self.sql = f"INSERT INTO {target} VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        self.copy_sql = f"COPY {target} FROM STDIN"
        self.columns: list[tuple[str, object, Callable[[Any], object] | None]] = []
        for field in fields:
            adapt: Callable[[Any], object] | None = None
            if isinstance(field, models.DateTimeField):
                adapt = ops.adapt_datetimefield_value
            elif isinstance(field, models.DateField):
                adapt = ops.adapt_datefield_value
            default = field.get_db_prep_save(field.get_default(), connection)
            self.columns.append((field.attname, default, adapt))

    def insert(self, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        unknown = rows[0].keys() - {name for name, _, _ in self.columns}
        if unknown:  # a renamed field must not be dropped silently
            raise ValueError(f"No such columns: {', '.join(sorted(unknown))}")
        params: list[list[Any]] = [
            [
                default
                if name not in row
                else (adapt(row[name]) if adapt is not None else row[name])
                for name, default, adapt in self.columns
            ]
            for row in rows
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Row-by-row INSERTs cost PostgreSQL a statement each (3,000 patients a second,
                # measured); COPY streams the batch in one statement.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(self.sql, params)


_PATIENT_ROW_FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "suffix",
    "preferred_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "last_visit_on",
    "created_at",
    "updated_at",
)


@contextlib.contextmanager
def sqlite_cache(*, mebibytes: int) -> Iterator[None]:
    """A larger SQLite page cache while loading, put back afterwards.

    The patient table has a dozen indexes filled in random order; with SQLite's default 2 MB
    cache their pages go to and from the OS on nearly every row, and a million patients took
    half as long again (measured).
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(mebibytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


class _DerivedColumns:
    """The search and matching columns that `patient_derive_fields` fills, per name.

    They depend on one name each, and names repeat thousands of times across a million
    patients, so each distinct name is derived once (through the same function registration
    uses, so demo patients are found exactly as registered ones are).
    """

    def __init__(self) -> None:
        self.family: dict[str, tuple[str, str]] = {}
        self.given: dict[str, tuple[str, str]] = {}
        self.preferred: dict[str, str] = {}

    def of(self, row: PatientRow) -> dict[str, object]:
        family = self.family.get(row.family_name)
        if family is None:
            derived = patient_derive_fields(Patient(family_name=row.family_name))
            family = self.family[row.family_name] = (derived.family_norm, derived.family_key)
        given = self.given.get(row.given_name)
        if given is None:
            derived = patient_derive_fields(Patient(given_name=row.given_name))
            given = self.given[row.given_name] = (derived.given_norm, derived.given_key)
        preferred = self.preferred.get(row.preferred_name)
        if preferred is None:
            derived = patient_derive_fields(Patient(preferred_name=row.preferred_name))
            preferred = self.preferred[row.preferred_name] = derived.preferred_norm
        return {
            "family_norm": family[0],
            "family_key": family[1],
            "given_norm": given[0],
            "given_key": given[1],
            "preferred_norm": preferred,
            "phone_last4": phone_last4(row.phone),
        }


def patients_insert(
    *,
    clinic: Clinic,
    rows: Iterator[PatientRow],
    count: int,
    payers: dict[str, int],
    progress: bool,
    money_rng: random.Random,
) -> tuple[tuple[str, str], ...]:
    mrns = mrn_reserve(count) if count else []
    patient_writer, coverage_writer = _RowWriter(Patient), _RowWriter(Coverage)
    ledger_writer = _RowWriter(LedgerEntry)
    derived = _DerivedColumns()
    duplicates: list[tuple[str, str]] = []
    position = 0
    with tqdm(
        total=count, unit=" patients", file=sys.stderr, disable=not progress, smoothing=0.1
    ) as bar:
        while batch := list(islice(rows, BATCH_SIZE)):
            batch_mrns = mrns[position : position + len(batch)]
            for offset, row in enumerate(batch):
                if row.duplicate_of is not None:
                    duplicates.append((mrns[row.duplicate_of], batch_mrns[offset]))
            position += len(batch)
            patient_writer.insert(
                [
                    {
                        "clinic_id": clinic.pk,
                        "mrn": mrn,
                        **{name: getattr(row, name) for name in _PATIENT_ROW_FIELDS},
                        **derived.of(row),
                        **_demo_consent(row, mrn),
                    }
                    for mrn, row in zip(batch_mrns, batch, strict=True)
                ]
            )
            ids = dict(
                Patient.objects.filter(mrn__in=batch_mrns).values_list("mrn", "pk").iterator()
            )
            # A separate generator, so the patients themselves stay what the seed made them.
            balances, copays = _demo_money(money_rng, batch_mrns)
            coverage_writer.insert(
                [
                    {
                        "patient_id": ids[mrn],
                        "payer_id": payers[coverage.payer],
                        "rank": coverage.rank,
                        "plan_name": coverage.plan_name,
                        "member_id": coverage.member_id,
                        "group_number": coverage.group_number,
                        "subscriber_name": coverage.subscriber_name,
                        "relationship": coverage.relationship,
                        "effective_date": coverage.effective_date,
                        "copay": copays.get(mrn) if coverage.rank == 1 else None,
                    }
                    for mrn, row in zip(batch_mrns, batch, strict=True)
                    for coverage in row.coverages
                ]
            )
            ledger_writer.insert(
                [
                    {
                        "clinic_id": clinic.pk,
                        "patient_id": ids[mrn],
                        "kind": EntryKind.CHARGE,
                        "amount": amount,
                        "description": "Balance brought forward",
                        "created_at": row.updated_at,
                    }
                    for mrn, row in zip(batch_mrns, batch, strict=True)
                    if (amount := balances.get(mrn)) is not None
                ]
            )
            bar.update(len(batch))
    # One-typo search looks family names up in this dictionary before it touches patients.
    family_names_register(norm for norm, _ in derived.family.values())
    return tuple(duplicates)


def _demo_consent(row: PatientRow, mrn: str) -> dict[str, object]:
    """Who agreed to messages, so the demo's reminders reach its outbox: everyone with an email
    address agreed to email; those with a (mobile) number and no email, and one in four of the
    others, to texts, which they then prefer. Derived from the row and MRN, not the generator,
    so the seed's patients stay the same."""
    email = bool(row.email)
    sms = bool(row.phone) and (not email or zlib.crc32(mrn.encode()) % 4 == 0)
    preferred = (
        ContactChannel.SMS if sms else ContactChannel.EMAIL if email else ContactChannel.PHONE
    )
    return {"consent_email": email, "consent_sms": sms, "preferred_contact": preferred.value}


# About one patient in ten owes a little, and one in ten has a co-pay on the primary plan.
DEMO_BALANCE_RATE = 0.10
DEMO_COPAY_RATE = 0.10
_DEMO_COPAYS = tuple(Decimal(v) for v in ("10.00", "15.00", "20.00", "25.00", "30.00", "40.00"))


def _demo_money(
    rng: random.Random, mrns: Sequence[str]
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    balances: dict[str, Decimal] = {}
    copays: dict[str, Decimal] = {}
    for mrn in mrns:
        if rng.random() < DEMO_BALANCE_RATE:
            balances[mrn] = Decimal(rng.randrange(1_500, 25_001)) / 100  # $15 to $250
        if rng.random() < DEMO_COPAY_RATE:
            copays[mrn] = rng.choice(_DEMO_COPAYS)
    return balances, copays
