"""SQL for the triggers that make the audit tables append-only (used by the migration, and by
tests that must empty the database between browser runs)."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLES = ("audit_auditevent", "audit_auditeventpatient")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION frontdesk_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def audit_triggers_create(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for table in TABLES:
                cursor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION frontdesk_audit_append_only()"
                )
                # TRUNCATE bypasses row triggers; refuse it too.
                cursor.execute(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION frontdesk_audit_append_only()"
                )
        elif connection.vendor == "sqlite":
            for table in TABLES:
                for operation in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                        f"ON {table} BEGIN SELECT RAISE(ABORT, "
                        f"'audit trail is append-only: {operation} on {table} refused'); END"
                    )


def audit_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            elif connection.vendor == "sqlite":
                for operation in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS frontdesk_audit_append_only()")
