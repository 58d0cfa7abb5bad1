"""The no-double-booking rule, enforced by the database itself.

PostgreSQL: an exclusion constraint over (provider, tstzrange(busy_start, busy_end)) with
btree_gist; a violation is SQLSTATE 23P01. SQLite has no exclusion constraints: triggers refuse
an insert or update that would overlap, and because every write transaction is IMMEDIATE
(settings), the trigger's check and the write cannot interleave with another writer. Both raise
IntegrityError naming `appt_no_double_booking`, which the booking service turns into "that
time was just taken".
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

NAME = "appt_no_double_booking"
TABLE = "scheduling_appointment"
ACTIVE = ("proposed", "pending", "booked", "arrived", "checked-in", "fulfilled")
_ACTIVE_SQL = ", ".join(f"'{status}'" for status in ACTIVE)


def _sqlite_trigger(operation: str) -> str:
    same_row = " AND a.id <> NEW.id" if operation == "UPDATE" else ""
    # Built from this module's constants only; nothing typed by anyone reaches it.
    return f"""
CREATE TRIGGER {NAME}_{operation.lower()} BEFORE {operation} ON {TABLE}
WHEN NEW.is_overbook = 0 AND NEW.status IN ({_ACTIVE_SQL})
BEGIN
    SELECT RAISE(ABORT, '{NAME}: the provider already has an appointment at that time')
    WHERE EXISTS (
        SELECT 1 FROM {TABLE} a
        WHERE a.provider_id = NEW.provider_id{same_row}
          AND a.is_overbook = 0 AND a.status IN ({_ACTIVE_SQL})
          AND a.busy_start < NEW.busy_end AND a.busy_end > NEW.busy_start
    );
END
"""  # noqa: S608


def double_booking_guard_create(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            cursor.execute(
                f"ALTER TABLE {TABLE} ADD CONSTRAINT {NAME} EXCLUDE USING gist "
                "(provider_id WITH =, tstzrange(busy_start, busy_end) WITH &&) "
                f"WHERE (status IN ({_ACTIVE_SQL}) AND NOT is_overbook)"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(_sqlite_trigger("INSERT"))
            cursor.execute(_sqlite_trigger("UPDATE"))


def double_booking_guard_drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {NAME}")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {NAME}_insert")
            cursor.execute(f"DROP TRIGGER IF EXISTS {NAME}_update")
