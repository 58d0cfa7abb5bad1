"""Refuse moving a ledger entry to a patient of another clinic (SQL in billing.triggers)."""

from django.db import migrations

from frontdesk.billing.triggers import ledger_clinic_triggers_create, ledger_clinic_triggers_drop


def create_triggers(apps, schema_editor):
    ledger_clinic_triggers_create(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    ledger_clinic_triggers_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_ledger_payment_request_key")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
