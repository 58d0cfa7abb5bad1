"""A reminder is unique per appointment, rule and appointment time: a moved appointment is
reminded afresh for its new time, never twice for the same one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("messaging", "0004_fill_reminder_appointment_start")]

    operations = [
        migrations.AlterField(
            model_name="reminderdelivery",
            name="appointment_start",
            field=models.DateTimeField(),
        ),
        migrations.RemoveConstraint(
            model_name="reminderdelivery",
            name="reminder_once_per_rule",
        ),
        migrations.AddConstraint(
            model_name="reminderdelivery",
            constraint=models.UniqueConstraint(
                fields=("appointment", "rule", "appointment_start"),
                name="reminder_once_per_rule_and_time",
            ),
        ),
    ]
