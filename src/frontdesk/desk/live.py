"""The desk queue's change counter: every service that opens, changes or closes work on the desk
calls `desk_changed` inside its own transaction; an open desk queue follows `desk_changes`
through the live channel every live page shares (lib/live.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from django.db import connection
from django.db.models import Field

from frontdesk.audit.models import AuditChainHead
from frontdesk.desk.models import DeskVersion
from frontdesk.lib import live as channel

TOPIC = "desk"
POLL_SECONDS = channel.POLL_SECONDS
HEARTBEAT_SECONDS = channel.HEARTBEAT_SECONDS


def desk_version(clinic_id: int) -> int:
    return (
        DeskVersion.objects.filter(clinic_id=clinic_id).values_list("version", flat=True).first()
        or 0
    )


def desk_changed(clinic_id: int) -> int:
    """Raise the clinic's desk version; call inside the transaction that made the change.

    Every change that touches desk work is audited, and `audit_record` locks the audit chain's
    head until commit. The head is locked here first, so the desk's counter is always taken
    while holding it, whichever a service calls first: two changes can never each hold one
    and wait for the other (on SQLite the IMMEDIATE transaction already holds the write lock).
    """
    if connection.in_atomic_block:
        list(AuditChainHead.objects.select_for_update().filter(pk=1).values_list("pk", flat=True))
    version = _version_raise(clinic_id)
    if version is None:
        DeskVersion.objects.bulk_create(
            [DeskVersion(clinic_id=clinic_id, version=0)], ignore_conflicts=True
        )
        version = _version_raise(clinic_id)
    channel.live_notify(TOPIC, clinic_id, version or 0)
    return version or 0


def _version_raise(clinic_id: int) -> int | None:
    """The clinic's raised version, None when it has no counter yet. One statement (UPDATE …
    RETURNING, PostgreSQL and SQLite 3.35+) where the ORM takes two: it runs while the audit
    chain's head is locked, which every audited write in every clinic waits for."""
    quote = connection.ops.quote_name
    table = quote(DeskVersion._meta.db_table)
    column, clinic = quote(_column("version")), quote(_column("clinic"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 "  # noqa: S608  (names from _meta)
            f"WHERE {clinic} = %s RETURNING {column}",
            [clinic_id],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _column(name: str) -> str:
    field = DeskVersion._meta.get_field(name)
    column = field.column if isinstance(field, Field) else None
    if column is None:
        raise TypeError(f"DeskVersion.{name} is not a column")
    return column


def desk_changes(clinic_id: int, *, since: int) -> AsyncGenerator[int | None, None]:
    """Yield each newer desk version of the clinic as it commits, or None as a heartbeat."""
    return channel.live_changes(
        TOPIC,
        clinic_id,
        since=since,
        read_version=desk_version,
        heartbeat=HEARTBEAT_SECONDS,
        poll=POLL_SECONDS,
    )
