"""Refuse changing a supplies log entry at the database (SQL in supplies.triggers)."""

from django.db import migrations

from frontdesk.supplies.triggers import supply_log_trigger_create, supply_log_trigger_drop


def create_trigger(apps, schema_editor):
    supply_log_trigger_create(schema_editor.connection)


def drop_trigger(apps, schema_editor):
    supply_log_trigger_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("supplies", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
