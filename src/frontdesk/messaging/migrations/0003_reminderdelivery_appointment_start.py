"""Deliveries remember the appointment time they were for (nullable until filled by 0004)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_default_reminder_rules")]

    operations = [
        migrations.AddField(
            model_name="reminderdelivery",
            name="appointment_start",
            field=models.DateTimeField(null=True),
        ),
    ]
