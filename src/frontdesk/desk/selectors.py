"""Reads of the desk queue: every registered source's open rows in ONE SQL query (UNION ALL),
with the desk's own claims, snoozes and hand-overs joined on, filtered, ordered by the
documented score (desk/scoring.py) and cut to one page in the database; then the page's rows
are described by their sources (one query per kind on the page)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.signals import setting_changed
from django.db import connection, connections, models
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.desk.models import DeskItem
from frontdesk.desk.pools import POOL_ROLES, Pool, pools_of_role
from frontdesk.desk.scoring import BRANCH_ORDER_SQL, ORDER_SQL, ScoreFacts, reason_words
from frontdesk.desk.sources import (
    ROW_FIELDS,
    DeskEntry,
    DeskSource,
    Moment,
    desk_keeping,
    desk_sources,
)

PAGE_SIZE = 50
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# Front desk and supervisors run the desk: they see every item of the kinds their role may see.
# Other roles (clinicians, billing) see only their pools' work and what is handed or claimed to
# them: minimum necessary (accounts/policy.py, DESK_QUEUE_VIEW).
SEES_WHOLE_DESK = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

# The SQL types of ROW_FIELDS on PostgreSQL: a source's constant (Value(None)) has no type of
# its own, and UNION needs one.
_PG_TYPES = {
    "ref": "bigint",
    "patient_id": "bigint",
    "due": "timestamp with time zone",
    "since": "timestamp with time zone",
    "red_flag": "boolean",
    "patient_waiting": "boolean",
    "owner_id": "bigint",
    "pool": "varchar(20)",
}


class DeskFilter(models.TextChoices):
    ALL = "", "Everything"
    MINE = "mine", "Mine"
    POOL = "pool", "My team's pool"
    UNASSIGNED = "unassigned", "Unassigned"
    OVERDUE = "overdue", "Overdue"


@dataclass(frozen=True)
class DeskRow:
    kind: str
    ref: int
    patient_id: int | None
    due: dt.datetime | None
    since: dt.datetime
    red_flag: bool
    patient_waiting: bool
    owner_id: int | None
    pool: str
    claimed_by_id: int | None = None
    claimed_at: dt.datetime | None = None
    handed_to_id: int | None = None
    handed_to_pool: str = ""
    snoozed_until: dt.datetime | None = None
    snooze_reason: str = ""
    # Filled for the page: the source's words, the order's words, the people named.
    entry: DeskEntry | None = None
    reason: str = ""
    claimed_by_name: str = ""
    handed_to_name: str = ""
    kind_label: str = ""
    url: str = ""  # the item's own page (its forms; its buttons post here)
    who: str = ""  # who has it, in words, as the signed-in person reads it
    mine: bool = False  # claimed by the signed-in person
    # Whom it may be handed to, as the hand-over choice's values and labels.
    people: tuple[tuple[str, str], ...] = ()  # ("person:<id>", name)
    pools: tuple[tuple[str, str], ...] = ()  # ("pool:<pool>", label)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"

    @property
    def dom(self) -> str:
        """The row's part of its elements' ids: "callback-12"."""
        return f"{self.kind}-{self.ref}"

    @property
    def label(self) -> str:
        """The row in words for its buttons' accessible names: "Confirm the appointment for
        Okonkwo, Adaeze"."""
        entry = self.entry
        return f"{entry.title} for {entry.patient_label}" if entry else self.kind_label

    @property
    def facts(self) -> ScoreFacts:
        return ScoreFacts(
            kind=self.kind,
            ref=self.ref,
            due=self.due,
            since=self.since,
            red_flag=self.red_flag,
            patient_waiting=self.patient_waiting,
        )

    @property
    def overdue_at(self) -> dt.datetime | None:
        return self.due

    @property
    def pool_label(self) -> str:
        return Pool(self.handed_to_pool).label if self.handed_to_pool in Pool.values else ""


@dataclass
class DeskPage:
    rows: list[DeskRow]
    total: int
    page: int
    page_size: int
    kinds: list[tuple[str, str]] = field(default_factory=list)

    @property
    def more(self) -> int:
        """Rows after this page."""
        return max(0, self.total - self.page * self.page_size)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)


def staff_name(user: User) -> str:
    return user.get_full_name() or user.username


def visible_sources(role: str, kind: str = "") -> list[DeskSource]:
    """The sources whose kind this role may see (one kind when asked), in a fixed order."""
    return [
        source
        for k, source in sorted(desk_sources().items())
        if role in source.roles and (not kind or k == kind)
    ]


# Each source's SQL by (source, clinic, database): see _kept_source_sql.
_kept: dict[tuple[int, int, str], tuple[DeskSource, str, tuple[Any, ...]]] = {}
KEPT_AT_MOST = 1024


def _kept_source_sql(source: DeskSource, clinic_id: int, alias: str) -> tuple[str, tuple[Any, ...]]:
    """A source's rows of one clinic as SQL, compiled once and kept: its parameters hold the
    source's moments where the load's time goes (sources.Moment). Compiling the sources' rows
    through the ORM cost about 11 ms of every desk page (bench/desk_queue.py --profile)."""
    key = (id(source), clinic_id, alias)
    kept = _kept.get(key)
    if kept is not None and kept[0] is source:
        return kept[1], kept[2]
    if not KIND_PATTERN.match(source.kind):
        raise ValueError(f"a desk kind is a short slug: {source.kind!r}")
    with desk_keeping():
        qs = source.rows(clinic_id=clinic_id, now=timezone.now())
        if getattr(qs, "_fields", None) is None:  # not yet narrowed to ROW_FIELDS by the source
            qs = qs.values(*ROW_FIELDS)
        sql, params = qs.query.get_compiler(using=alias).as_sql()
    if connections[alias].vendor == "postgresql":
        # Typed, so the filter and UNION read one type per column.
        columns = ", ".join(f"CAST(q.{name} AS {_PG_TYPES[name]}) AS {name}" for name in ROW_FIELDS)
        sql = f"SELECT {columns} FROM ({sql}) q"  # noqa: S608
    if len(_kept) >= KEPT_AT_MOST:
        _kept.clear()
    kept = _kept[key] = (source, sql, tuple(params))
    return kept[1], kept[2]


def _forget_kept_sql(**kwargs: object) -> None:
    _kept.clear()


# A source may read a setting while it builds its rows (the board's red threshold).
setting_changed.connect(_forget_kept_sql, dispatch_uid="desk_forget_kept_sql")


def _source_sql(source: DeskSource, clinic_id: int) -> tuple[str, list[Any]]:
    sql, params = _kept_source_sql(source, clinic_id, connection.alias)
    return sql, list(params)


def _bound(params: list[Any], now: dt.datetime) -> list[Any]:
    """The parameters with each moment's value at `now`, each moment worked out once."""
    values: dict[int, Any] = {}
    bound = []
    for param in params:
        if isinstance(param, Moment):
            if id(param) not in values:
                values[id(param)] = param.value_at(now, connection)
            param = values[id(param)]
        bound.append(param)
    return bound


def _db_time(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _as_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return None
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


# Who has the item now: the claim, else the person it was handed to, else (unless handed to a
# pool) the person the source says it belongs to.
_ASSIGNEE_SQL = (
    "COALESCE(s.claimed_by_id, s.handed_to_id, "
    "CASE WHEN COALESCE(s.handed_to_pool, '') = '' THEN u.owner_id END)"
)
# The pool it is in now: handed to a person, none; handed to a pool, that pool; else the
# source's pool, the whole desk's work ("") being the front desk's pool.
_POOL_SQL = (
    "CASE WHEN s.handed_to_id IS NOT NULL THEN '' "
    "WHEN COALESCE(s.handed_to_pool, '') <> '' THEN s.handed_to_pool "
    f"WHEN u.pool = '' THEN '{Pool.DESK.value}' ELSE u.pool END"
)


def _branch_sql(source_sql: str, kind: str, where: list[str], table: str) -> tuple[str, str]:
    """One source's rows with the desk's own state joined on and the filter applied: the
    columns of a page row (`select`) and the FROM ... WHERE (`body`), both over `u`, `s`."""
    columns = ", ".join(f"u.{name}" for name in ROW_FIELDS)
    # The kind is a checked slug, written into the SQL so UNION sees one text type.
    select = (
        f"SELECT '{kind}' AS kind, {columns}, s.claimed_by_id, s.claimed_at, "
        "s.handed_to_id, s.handed_to_pool, s.snoozed_until, s.snooze_reason"
    )
    body = (
        f"FROM ({source_sql}) u LEFT JOIN {table} s "
        f"ON s.clinic_id = %s AND s.kind = '{kind}' AND s.ref = u.ref "
        f"WHERE {' AND '.join(where) or '1 = 1'}"
    )
    return select, body


def desk_queue_sql(
    *,
    user: User,
    now: dt.datetime,
    kind: str = "",
    view: DeskFilter = DeskFilter.ALL,
    ref: int | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    snoozed_too: bool = False,
) -> tuple[str, list[Any]] | None:
    """The one query of the desk queue for this member of staff, or None when their role sees
    no kind of desk work (or not this kind).

    When the filter asks who has an item or which pool it is in (mine, pool, unassigned, and
    every filter of a role that sees only its own and its pools' work) or keeps few rows
    (overdue), one pass: the union
    with the desk's state joined on, filtered, counted (a window) and ordered. Otherwise a
    top-N over the union: each source's branch (its rows, the desk's claims, snoozes and
    hand-overs joined on, the filter applied) is ordered by the score and cut to the first
    offset + limit rows, and the union of those is ordered and cut again. The page's rows are
    among each branch's first offset + limit, so this is the same page as ordering the whole
    union, and a source whose rows are kept in the score's order reads only that many. The
    total is the sum of the branches' counts, in the same statement (column `total`)."""
    clinic_id = user.clinic_id
    sources = visible_sources(user.role, kind)
    if clinic_id is None or not sources:
        return None
    # What the page and the count keep, over the source's row `u` and the desk's state `s`.
    where: list[str] = []
    where_params: list[Any] = []
    # The same without the snooze, for a count that asks about snoozes alone (NOT EXISTS: no
    # join to every claim and hand-over of the kind) when nothing else reads the desk's state.
    plain: list[str] = []
    plain_params: list[Any] = []
    reads_state = False
    pools = sorted(pools_of_role(user.role))
    pool_list = ", ".join(f"'{p.value}'" for p in pools) or "NULL"
    if user.role not in SEES_WHOLE_DESK:
        where.append(f"({_ASSIGNEE_SQL} = %s OR {_POOL_SQL} IN ({pool_list}))")
        where_params.append(user.pk)
        reads_state = True
    if view == DeskFilter.MINE:
        where.append(f"{_ASSIGNEE_SQL} = %s")
        where_params.append(user.pk)
        reads_state = True
    elif view == DeskFilter.POOL:
        where.append(f"{_POOL_SQL} IN ({pool_list})")
        reads_state = True
    elif view == DeskFilter.UNASSIGNED:
        where.append(f"{_ASSIGNEE_SQL} IS NULL")
        reads_state = True
    elif view == DeskFilter.OVERDUE:
        plain.append("u.due < %s")
        plain_params.append(_db_time(now))
        reads_state = True  # few rows: one pass is the cheaper (measured)
    if ref is not None:
        plain.append("u.ref = %s")
        plain_params.append(ref)
    if not snoozed_too:
        where.append("(s.snoozed_until IS NULL OR s.snoozed_until <= %s)")
        where_params.append(_db_time(now))
    where += plain
    where_params += plain_params
    table = connection.ops.quote_name(DeskItem._meta.db_table)
    compiled = [(source.kind, *_source_sql(source, clinic_id)) for source in sources]
    if reads_state:
        # Who has it or which pool it is in is asked of every row, so every row meets its
        # DeskItem: one pass over the union (page and count together) is the cheaper.
        union = " UNION ALL ".join(
            f"SELECT '{k}' AS kind, {', '.join(f'q.{n}' for n in ROW_FIELDS)} FROM ({sql}) q"  # noqa: S608
            for k, sql, _ in compiled
        )
        sql = (
            "SELECT u.kind, u.ref, u.patient_id, u.due, u.since, u.red_flag, "  # noqa: S608
            "u.patient_waiting, u.owner_id, u.pool, s.claimed_by_id, s.claimed_at, "
            "s.handed_to_id, s.handed_to_pool, s.snoozed_until, s.snooze_reason, "
            f"COUNT(*) OVER () AS total FROM ({union}) u LEFT JOIN {table} s "
            "ON s.clinic_id = %s AND s.kind = u.kind AND s.ref = u.ref "
            f"WHERE {' AND '.join(where)} ORDER BY {ORDER_SQL} LIMIT %s OFFSET %s"
        )
        params = [p for _, _, ps in compiled for p in ps]
        return sql, _bound([*params, clinic_id, *where_params, limit, offset], now)
    # Otherwise a top-N over the union (see above), counted without the join.
    branches, counts = [], []
    branch_params: list[Any] = []
    count_params: list[Any] = []
    for kind, source_sql, source_params in compiled:
        select, body = _branch_sql(source_sql, kind, where, table)
        # Only constants and checked slugs are written into the SQL; every value is a parameter.
        branches.append(
            f"SELECT * FROM ({select} {body} ORDER BY {BRANCH_ORDER_SQL} LIMIT %s) b"  # noqa: S608
        )
        branch_params.extend([*source_params, clinic_id, *where_params, offset + limit])
        snoozed = (
            f"NOT EXISTS (SELECT 1 FROM {table} s WHERE s.clinic_id = %s "  # noqa: S608
            f"AND s.kind = '{kind}' AND s.ref = u.ref AND s.snoozed_until > %s)"
        )
        kept = [] if snoozed_too else [snoozed]
        counts.append(
            f"(SELECT COUNT(*) FROM ({source_sql}) u "  # noqa: S608
            f"WHERE {' AND '.join([*kept, *plain]) or '1 = 1'})"
        )
        snooze_params = [] if snoozed_too else [clinic_id, _db_time(now)]
        count_params.extend([*source_params, *snooze_params, *plain_params])
    sql = (
        f"SELECT u.*, {' + '.join(counts)} AS total "  # noqa: S608
        f"FROM ({' UNION ALL '.join(branches)}) u ORDER BY {ORDER_SQL} LIMIT %s OFFSET %s"
    )
    return sql, _bound([*count_params, *branch_params, limit, offset], now)


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The desk queue's query. On PostgreSQL it runs as a prepared statement: the union of
    every source is costly to plan (more than to run, on a busy server), and its text is the
    same on every load of the same filter, so the server plans it once per connection."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    connection.ensure_connection()
    # Django's own cursors bind on the client, which cannot prepare; this one binds on the
    # server, on the same connection (and transaction).
    # Errors as Django's own (a lost database is the busy page's 503, not a 500).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return list(cursor.fetchall())


def _row(r: Sequence[Any], now: dt.datetime) -> DeskRow:
    return DeskRow(
        kind=r[0],
        ref=int(r[1]),
        patient_id=r[2],
        due=_as_time(r[3]),
        since=_as_time(r[4]) or now,
        red_flag=bool(r[5]),
        patient_waiting=bool(r[6]),
        owner_id=r[7],
        pool=r[8] or "",
        claimed_by_id=r[9],
        claimed_at=_as_time(r[10]),
        handed_to_id=r[11],
        handed_to_pool=r[12] or "",
        snoozed_until=_as_time(r[13]),
        snooze_reason=r[14] or "",
    )


def desk_rows(
    *,
    user: User,
    now: dt.datetime,
    kind: str = "",
    view: DeskFilter = DeskFilter.ALL,
    ref: int | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> tuple[list[DeskRow], int]:
    """The rows of one page in the documented order, and how many rows there are in all."""
    query = desk_queue_sql(
        user=user, now=now, kind=kind, view=view, ref=ref, limit=limit, offset=offset
    )
    if query is None:
        return [], 0
    fetched = _fetch(*query)
    rows = [_row(r, now) for r in fetched]
    total = int(fetched[0][15]) if fetched else 0
    if not fetched and offset:
        # Past the last page: count on the first.
        _, total = desk_rows(user=user, now=now, kind=kind, view=view, limit=1)
    return rows, total


def _who(row: DeskRow, user: User, people: dict[int, str]) -> str:
    if row.claimed_by_id:
        return "You" if row.claimed_by_id == user.pk else people.get(row.claimed_by_id, "")
    if row.handed_to_id:
        name = "you" if row.handed_to_id == user.pk else people.get(row.handed_to_id, "")
        return f"Handed to {name}"
    if row.handed_to_pool:
        return f"{row.pool_label} pool"
    return ""


def _described(user: User, rows: Sequence[DeskRow], *, now: dt.datetime) -> list[DeskRow]:
    sources = desk_sources()
    by_kind: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row.ref)
    entries: dict[tuple[str, int], DeskEntry] = {}
    for kind, refs in by_kind.items():
        for ref, entry in sources[kind].describe(refs, now=now).items():
            entries[(kind, ref)] = entry
    people = {
        u.pk: staff_name(u)
        for u in User.objects.filter(
            pk__in={p for r in rows for p in (r.claimed_by_id, r.handed_to_id) if p}
        )
    }
    items = reverse("desk:queue") + "items/"
    described = []
    for row in rows:
        entry = entries.get((row.kind, row.ref)) or DeskEntry(title=sources[row.kind].label, url="")
        described.append(
            DeskRow(
                **{
                    **row.__dict__,
                    "entry": entry,
                    "reason": reason_words(
                        row.facts, now=now, flag=entry.flag, waiting=entry.waiting
                    ),
                    "claimed_by_name": people.get(row.claimed_by_id or 0, ""),
                    "handed_to_name": people.get(row.handed_to_id or 0, ""),
                    "kind_label": sources[row.kind].label,
                    "url": f"{items}{row.kind}/{row.ref}/",
                    "who": _who(row, user, people),
                    "mine": row.claimed_by_id == user.pk,
                }
            )
        )
    return described


def _hidden_from(user: User, rows: Sequence[DeskRow]) -> set[tuple[str, int]]:
    """Rows this person must not see although their role sees the kind: a source may name them
    through an optional `refs_hidden_from` (a complaint is never shown to staff named in it)."""
    sources = desk_sources()
    by_kind: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row.ref)
    hidden: set[tuple[str, int]] = set()
    for kind, refs in by_kind.items():
        hide = getattr(sources[kind], "refs_hidden_from", None)
        if hide is not None:
            hidden.update((kind, ref) for ref in hide(refs, user_id=user.pk))
    return hidden


def desk_page(
    *,
    user: User,
    now: dt.datetime,
    kind: str = "",
    view: DeskFilter = DeskFilter.ALL,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> DeskPage:
    page = max(1, page)
    rows, total = desk_rows(
        user=user,
        now=now,
        kind=kind,
        view=view,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    hidden = _hidden_from(user, rows)
    if hidden:
        # Left out of the page and of the count; the page may then show fewer than its size.
        rows = [row for row in rows if (row.kind, row.ref) not in hidden]
        total -= len(hidden)
    kinds = [(s.kind, s.label) for s in visible_sources(user.role)]
    return DeskPage(
        rows=_described(user, rows, now=now),
        total=total,
        page=page,
        page_size=page_size,
        kinds=kinds,
    )


def desk_queue_for_view(
    user: User,
    *,
    context: AuditContext,
    now: dt.datetime,
    kind: str = "",
    view: DeskFilter = DeskFilter.ALL,
    page: int = 1,
) -> DeskPage:
    """The desk queue's page, recorded as a look at the patients it names."""
    result = desk_page(user=user, now=now, kind=kind, view=view, page=page)
    patient_ids = sorted({r.patient_id for r in result.rows if r.patient_id})
    if patient_ids:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=patient_ids,
            object_type=AuditObject.DESK_QUEUE,
            detail={"kind": kind, "filter": str(view), "page": page},
        )
    return result


def desk_row(*, user: User, kind: str, ref: int, now: dt.datetime) -> DeskRow | None:
    """One open item as this member of staff may see it (snoozed items too), or None."""
    if not KIND_PATTERN.match(kind) or kind not in desk_sources():
        return None
    # Snoozed work can still be acted on (woken, handed over) by whoever may see it.
    query = desk_queue_sql(user=user, now=now, kind=kind, ref=ref, limit=1, snoozed_too=True)
    if query is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(*query)
        r = cursor.fetchone()
    if r is None:
        return None
    row = _row(r, now)
    return None if _hidden_from(user, [row]) else row


def desk_item_for_view(
    user: User, *, context: AuditContext, kind: str, ref: int, now: dt.datetime
) -> DeskRow | None:
    """One open item with its words and whom it may go to, recorded as a look at its patient;
    None when it is resolved or not this person's to see."""
    row = desk_row(user=user, kind=kind, ref=ref, now=now)
    if row is None:
        return None
    [described] = _described(user, [row], now=now)
    # Whom it may go to: asked only here, when the officer opens the item's forms.
    people = tuple(
        (f"person:{u.pk}", staff_name(u)) for u in desk_colleagues(user, kind) if u.pk != user.pk
    )
    pools = tuple((f"pool:{p.value}", p.label) for p in desk_pools_for(kind))
    described = DeskRow(**{**described.__dict__, "people": people, "pools": pools})
    if row.patient_id:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=[row.patient_id],
            object_type=AuditObject.DESK_ITEM,
            object_id=row.key,
        )
    return described


def desk_colleagues(user: User, kind: str) -> list[User]:
    """Who an item of this kind may be handed to: active staff of the same clinic whose role
    may see the kind."""
    source = desk_sources().get(kind)
    if source is None or user.clinic_id is None:
        return []
    return list(
        User.objects.filter(
            clinic_id=user.clinic_id, is_active=True, locked_at=None, role__in=source.roles
        ).order_by("first_name", "last_name", "username")
    )


def desk_pools_for(kind: str) -> list[Pool]:
    """The pools an item of this kind may be handed to: those whose roles may see it."""
    source = desk_sources().get(kind)
    if source is None:
        return []
    return [pool for pool, roles in POOL_ROLES.items() if roles & source.roles]
