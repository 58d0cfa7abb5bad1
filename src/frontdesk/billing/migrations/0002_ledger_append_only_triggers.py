"""Refuse changing or removing ledger entries at the database (SQL in billing.triggers)."""

from django.db import migrations

from frontdesk.billing.triggers import COLUMNS_0001, ledger_triggers_create, ledger_triggers_drop


def create_triggers(apps, schema_editor):
    ledger_triggers_create(schema_editor.connection, COLUMNS_0001)


def drop_triggers(apps, schema_editor):
    ledger_triggers_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_patient_ledger")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
