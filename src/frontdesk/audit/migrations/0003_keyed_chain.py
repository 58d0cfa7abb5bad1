"""Each event names the key that signs it; existing events keep an empty key id and are still
verified with plain SHA-256 (docs/operations.md says why they are not re-signed).

On SQLite, adding a NOT NULL column rebuilds the table, which the append-only triggers would
refuse and which drops them anyway; they are lifted for the change and put back in the same
transaction. Reversing it drops the key ids, after which the events signed since cannot be
verified: restore a backup taken before the upgrade instead.
"""

from django.db import migrations, models

from frontdesk.audit.triggers import audit_triggers_create, audit_triggers_drop


def drop_triggers(apps, schema_editor):
    audit_triggers_drop(schema_editor.connection)


def create_triggers(apps, schema_editor):
    audit_triggers_create(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.AddField(
            model_name="auditchainhead",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
