"""The test databases are copies of a migrated template (tests/database_template.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import database_template

SRC = Path(settings.BASE_DIR) / "src" / "frontdesk"


@pytest.mark.django_db
def test_the_test_database_has_every_migration_applied_and_no_model_left_without_one() -> None:
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    tables = set(connection.introspection.table_names())
    assert {"patients_patient", "desk_deskitem", "audit_auditevent"} <= tables


def test_what_a_migration_runs_from_the_project_is_part_of_the_key() -> None:
    migrations = sorted((SRC / "audit" / "migrations").glob("0*.py"))
    imported = database_template._project_modules_imported(migrations)
    assert SRC / "audit" / "triggers.py" in imported


def test_the_key_changes_when_a_module_a_migration_imports_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = database_template.migrations_key()
    assert database_template.migrations_key() == before
    triggers = SRC / "billing" / "triggers.py"
    read = Path.read_bytes

    def edited(path: Path) -> bytes:
        return read(path) + (b"\n# edited\n" if path == triggers else b"")

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert database_template.migrations_key() != before
