"""SQL for the trigger that keeps the supplies log append-only (used by migration 0002): an
UPDATE of a log entry is refused; entries go only with their item (which nothing deletes)."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "supplies_supplylogentry"
TRIGGER = f"{TABLE}_no_update"
MESSAGE = "the supplies log is append-only"


def supply_log_trigger_create(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
CREATE OR REPLACE FUNCTION frontdesk_supply_log_no_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
            )
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION frontdesk_supply_log_no_update()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def supply_log_trigger_drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS frontdesk_supply_log_no_update()")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
