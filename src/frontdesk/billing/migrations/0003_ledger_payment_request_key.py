"""A payment remembers its form's one-time key (unique), so a second press records nothing.

The append-only triggers are recreated so that the new column cannot be changed either
(SQLite also loses a table's triggers when the table is rebuilt to add a unique column).
"""

from django.db import migrations, models

from frontdesk.billing.triggers import (
    COLUMNS_0003,
    COLUMNS_0001,
    ledger_triggers_create,
    ledger_triggers_drop,
)


def drop_triggers(apps, schema_editor):
    ledger_triggers_drop(schema_editor.connection)


def create_triggers(apps, schema_editor):
    ledger_triggers_create(schema_editor.connection, COLUMNS_0003)


def create_old_triggers(apps, schema_editor):
    ledger_triggers_create(schema_editor.connection, COLUMNS_0001)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_ledger_append_only_triggers"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, create_old_triggers),
        migrations.AddField(
            model_name="ledgerentry",
            name="request_key",
            field=models.UUIDField(blank=True, null=True, unique=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
