"""SQL for the triggers that make the ledger append-only (used by the migration).

Merging two patient records moves entries to the survivor, so changing `patient_id` alone is
allowed; every other UPDATE and every DELETE is refused. TRUNCATE stays possible so that tests
can empty the database.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "billing_ledgerentry"
# The columns of the first ledger table (migration 0002 creates its triggers with these).
COLUMNS_0001 = (
    "id",
    "clinic_id",
    "kind",
    "amount",
    "description",
    "appointment_id",
    "method",
    "is_copay",
    "created_by_id",
    "created_at",
)
# Every column but patient_id.
COLUMNS = (*COLUMNS_0001, "request_key")


def _pg_function(columns: tuple[str, ...]) -> str:
    unchanged = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in columns)
    return f"""
CREATE OR REPLACE FUNCTION frontdesk_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND ({unchanged})
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def ledger_triggers_create(
    connection: BaseDatabaseWrapper, columns: tuple[str, ...] = COLUMNS
) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_pg_function(columns))
            cursor.execute(
                f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION frontdesk_ledger_append_only()"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE OF {', '.join(columns)} "
                f"ON {TABLE} BEGIN SELECT RAISE(ABORT, "
                f"'the ledger is append-only: UPDATE on {TABLE} refused'); END"
            )
            cursor.execute(
                f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} BEGIN "
                f"SELECT RAISE(ABORT, 'the ledger is append-only: DELETE on {TABLE} refused'); END"
            )


def ledger_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS frontdesk_ledger_append_only()")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
