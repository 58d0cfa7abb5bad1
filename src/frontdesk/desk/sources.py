"""What the desk queue is made of: each app's source of work, registered here.

The desk queue is a view over work, never a second copy of it. An app that has work for the desk
registers a `DeskSource` from its `AppConfig.ready()`:

- work with its own life (a callback, a medical question, a complaint) is a row of that app,
  shaped like FHIR Task (status, priority, owner, due, focus, for); the source's queryset selects
  the rows still open;
- work that is only a state of something else (an unconfirmed appointment, an expiring offer) is
  a queryset over that something, so the item goes the moment its cause is resolved.

The desk imports no app above it; apps import this module. The desk unions every source's
`rows()` in one SQL query, orders the union by the documented score (desk/scoring.py) and asks
each source to `describe()` only the rows on the page.

`rows()` returns a queryset of the source's own model whose `.values()` are exactly
`ROW_FIELDS`, each an annotation (use `Value(...)` for a constant, with an output field):

    ref              the row's primary key (int): with the kind, the item's identity
    patient_id       the patient the work is for, or None
    due              when it is due (aware datetime), or None when it has no deadline
    since            when the work arose (aware datetime): the age tie-breaker
    red_flag         a clinical red flag (bool): always first
    patient_waiting  the patient is physically waiting at the desk or in the room (bool)
    owner_id         the member of staff it belongs to, or None
    pool             a `Pool` value it belongs to, or "" for the whole desk

The desk adds the claims, snoozes and hand-overs it keeps itself (desk/models.py) on top.

The desk compiles a source's `rows()` once per clinic and keeps the SQL: it is the same on every
load but for the time. So every value that follows the clock, or the clinic's data (its
holidays, its settings), is a `Moment`: `moment(now, lambda t: t - RED)` is `now - RED` when the
queryset is used as it is (a test, a count), and a parameter the desk fills in with the load's
own time when it runs the kept SQL. A value written in plainly is kept as it was at the first
load (`test_every_source_keeps_nothing_of_the_time_it_was_built_at` proves none is); a change
of Django settings drops what was kept.

A source may also define `refs_hidden_from(refs, *, user_id) -> set[int]`: the rows a person
must not see although their role sees the kind (a complaint is never shown to staff named in
it). The desk leaves them out of that person's page and count, and refuses to open them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateTimeField, Expression, Field, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from frontdesk.accounts.roles import Role
from frontdesk.patients.models import Confidentiality, Patient

ROW_FIELDS: tuple[str, ...] = (
    "ref",
    "patient_id",
    "due",
    "since",
    "red_flag",
    "patient_waiting",
    "owner_id",
    "pool",
)


@dataclass(frozen=True)
class DeskEntry:
    """How one row reads on the desk queue: what to do and where to do it."""

    title: str  # what to do, in words: "Call back about a bill"
    url: str  # the page where the work is done
    patient_label: str = ""  # the patient as lists show them (masked), or ""
    detail: str = ""  # one short line more, no more PHI than the list shows
    flag: str = ""  # the red flag in words, when the row has one: "chest pain"
    waiting: str = ""  # where the patient waits, when they do: "at the desk"


class DeskSource(Protocol):
    """One kind of desk work. `kind` is unique across the project (a short slug)."""

    kind: str
    label: str  # the kind in words, for the filter: "Callbacks"
    roles: frozenset[Role]  # the roles that may see this kind of work at all

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        """The open items of one clinic, annotated with exactly `ROW_FIELDS`."""
        ...

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        """The words and link of each of these rows (the page's rows only)."""
        ...


_sources: dict[str, DeskSource] = {}

# True while the desk compiles a source's rows to keep: moments become parameters to fill in.
_keeping: ContextVar[bool] = ContextVar("desk_keeping", default=False)


class Moment(Expression):
    """A value of the clock, `fn(now)`, in a source's rows (see the module's docstring). As an
    SQL parameter it is the value at `now`; in SQL the desk keeps, it is the Moment itself, for
    `value_at` with each load's time."""

    def __init__(
        self,
        now: dt.datetime,
        fn: Callable[[dt.datetime], Any],
        output_field: Field[Any, Any],
    ) -> None:
        super().__init__(output_field=output_field)
        self.now = now
        self.fn = fn

    def value_at(self, now: dt.datetime, connection: BaseDatabaseWrapper) -> Any:
        return self.output_field.get_db_prep_value(self.fn(now), connection)

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        if _keeping.get():
            return "%s", (self,)
        return "%s", (self.value_at(self.now, connection),)


def moment(
    now: dt.datetime,
    fn: Callable[[dt.datetime], Any] | None = None,
    output_field: Field[Any, Any] | None = None,
) -> Moment:
    """`now`, or `fn(now)`, as a value of the clock for a source's rows: a datetime unless
    `output_field` says otherwise (`DateField()` for a day)."""
    return Moment(now, fn or (lambda t: t), output_field or DateTimeField())


@contextmanager
def desk_keeping() -> Iterator[None]:
    """While the desk compiles rows to keep: moments compile as parameters to fill in."""
    token = _keeping.set(True)
    try:
        yield
    finally:
        _keeping.reset(token)


def desk_source_register(source: DeskSource) -> None:
    """Add a kind of work to the desk queue (a second registration of a kind replaces it)."""
    _sources[source.kind] = source


def desk_sources() -> dict[str, DeskSource]:
    """Every registered source, by kind."""
    return dict(_sources)


# What `desk_patient_label` reads of a patient: for `.only()` in a source's `describe()`.
PATIENT_FIELDS = (
    "patient__family_name",
    "patient__given_name",
    "patient__mrn",
    "patient__confidentiality",
)


def desk_patient_label(patient: Patient) -> str:
    """A patient as the desk queue names them: family and given name as other lists do; a
    restricted record by its MRN alone (its name is for those who opened it)."""
    if patient.confidentiality == Confidentiality.RESTRICTED:
        return f"Restricted record · MRN {patient.mrn}"
    return f"{patient.family_name}, {patient.given_name}"
