"""SQL for the triggers that make the ledger append-only (used by the migrations).

Merging two patient records moves entries to the survivor, so changing `patient_id` alone is
allowed; every other UPDATE and every DELETE is refused. TRUNCATE stays possible so that tests
can empty the database.

A move stays within the clinic: the same-clinic triggers (migration 0004) refuse a new patient
of another clinic than the entry's previous patient or the entry's own `clinic_id`, even for
SQL typed by hand; and an entry is written for its patient's clinic (migration 0005, on
INSERT). They guard UPDATE and INSERT only, so they stay in place while tests lift the
append-only triggers to empty the tables. SQLite drops a table's triggers when a migration
rebuilds the table: such a migration recreates both kinds (test_triggers_present checks).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "billing_ledgerentry"
PATIENT_TABLE = "patients_patient"
SAME_CLINIC_TRIGGER = f"{TABLE}_same_clinic"
SAME_CLINIC_MESSAGE = "a ledger entry cannot move to a patient of another clinic"
PATIENT_CLINIC_TRIGGER = f"{TABLE}_patient_clinic"
PATIENT_CLINIC_MESSAGE = "a ledger entry must belong to the clinic of its patient"
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
# Every column but patient_id, before the cash drawers (migration 0003).
COLUMNS_0003 = (*COLUMNS_0001, "request_key")
# Every column but patient_id.
COLUMNS = (*COLUMNS_0003, "drawer_id", "reverses_id")


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


# True when the entry's new patient belongs to the clinic of its previous patient and of the
# entry itself (false too for a patient that does not exist; the foreign key refuses that anyway).
# The same SQL on both databases: two lookups by primary key (only constants are interpolated).
_STAYS_IN_CLINIC = (
    f"EXISTS (SELECT 1 FROM {PATIENT_TABLE} new_patient JOIN {PATIENT_TABLE} old_patient "  # noqa: S608
    "ON old_patient.clinic_id = new_patient.clinic_id "
    "WHERE new_patient.id = NEW.patient_id AND old_patient.id = OLD.patient_id "
    "AND new_patient.clinic_id = NEW.clinic_id AND new_patient.clinic_id = OLD.clinic_id)"
)


def _refusing_trigger_create(
    connection: BaseDatabaseWrapper,
    *,
    name: str,
    event: str,
    condition: str,
    message: str,
    also_when: tuple[str, str] | None = None,
) -> None:
    """A BEFORE `event` trigger that raises `message` (an IntegrityError in Django) unless
    `condition` holds. `also_when`: a (PostgreSQL, SQLite) test that must hold first for the
    trigger to look at all. Only constants are interpolated."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF NOT {condition} THEN
        RAISE EXCEPTION '{message}'
            USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
            )
            when = f"WHEN ({also_when[0]}) " if also_when else ""
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {TABLE} "
                f"FOR EACH ROW {when}EXECUTE FUNCTION {name}()"
            )
        elif connection.vendor == "sqlite":
            first = f"{also_when[1]} AND " if also_when else ""
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {TABLE} "
                f"WHEN {first}NOT {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def _refusing_trigger_drop(connection: BaseDatabaseWrapper, name: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def ledger_clinic_triggers_create(connection: BaseDatabaseWrapper) -> None:
    """Refuse moving an entry to a patient of another clinic (SQLSTATE 23514, IntegrityError)."""
    _refusing_trigger_create(
        connection,
        name=SAME_CLINIC_TRIGGER,
        event="UPDATE OF patient_id",
        condition=_STAYS_IN_CLINIC,
        message=SAME_CLINIC_MESSAGE,
        also_when=(
            "OLD.patient_id IS DISTINCT FROM NEW.patient_id",
            "NEW.patient_id IS NOT OLD.patient_id",
        ),
    )


def ledger_clinic_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    _refusing_trigger_drop(connection, SAME_CLINIC_TRIGGER)


# True when the new entry's clinic is its patient's (false too for a patient that does not
# exist; the foreign key refuses that anyway). One lookup by primary key.
_FOR_ITS_PATIENTS_CLINIC = (
    f"EXISTS (SELECT 1 FROM {PATIENT_TABLE} p "  # noqa: S608
    "WHERE p.id = NEW.patient_id AND p.clinic_id = NEW.clinic_id)"
)


def ledger_patient_clinic_triggers_create(connection: BaseDatabaseWrapper) -> None:
    """Refuse an entry written for another clinic than its patient's (IntegrityError)."""
    _refusing_trigger_create(
        connection,
        name=PATIENT_CLINIC_TRIGGER,
        event="INSERT",
        condition=_FOR_ITS_PATIENTS_CLINIC,
        message=PATIENT_CLINIC_MESSAGE,
    )


def ledger_patient_clinic_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    _refusing_trigger_drop(connection, PATIENT_CLINIC_TRIGGER)
