"""Refuse UPDATE and DELETE on audit rows at the database, whatever the application does.

The SQL lives in frontdesk.audit.triggers (plain SQL, no models), so that this migration and the
test fixtures that must empty the database stay in step.
"""

from django.db import migrations

from frontdesk.audit.triggers import audit_triggers_create, audit_triggers_drop


def create_triggers(apps, schema_editor):
    audit_triggers_create(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    audit_triggers_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
