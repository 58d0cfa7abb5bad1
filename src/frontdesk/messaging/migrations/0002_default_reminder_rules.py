"""Every existing clinic gets the default reminders: 72 and 24 hours before the visit."""

from django.db import migrations

DEFAULT_REMINDER_HOURS = (72, 24)  # a copy: migrations never import app code


def add_default_rules(apps, schema_editor):
    Clinic = apps.get_model("clinic", "Clinic")
    ReminderRule = apps.get_model("messaging", "ReminderRule")
    for clinic_id in Clinic.objects.values_list("pk", flat=True):
        if not ReminderRule.objects.filter(clinic_id=clinic_id).exists():
            ReminderRule.objects.bulk_create(
                ReminderRule(clinic_id=clinic_id, hours_before=hours, is_active=True)
                for hours in DEFAULT_REMINDER_HOURS
            )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_reminder_rules_and_deliveries")]

    operations = [migrations.RunPython(add_default_rules, migrations.RunPython.noop)]
