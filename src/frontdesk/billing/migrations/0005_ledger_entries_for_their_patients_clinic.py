"""Refuse a ledger entry written for another clinic than its patient's (SQL in billing.triggers)."""

from django.db import migrations

from frontdesk.billing.triggers import (
    ledger_patient_clinic_triggers_create,
    ledger_patient_clinic_triggers_drop,
)


def create_triggers(apps, schema_editor):
    ledger_patient_clinic_triggers_create(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    ledger_patient_clinic_triggers_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_ledger_entries_stay_in_their_clinic")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
