"""Past deliveries were for the appointment's current start: the only time known for them."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill_appointment_start(apps, schema_editor):
    Appointment = apps.get_model("scheduling", "Appointment")
    ReminderDelivery = apps.get_model("messaging", "ReminderDelivery")
    ReminderDelivery.objects.filter(appointment_start__isnull=True).update(
        appointment_start=Subquery(
            Appointment.objects.filter(pk=OuterRef("appointment_id")).values("start")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_reminderdelivery_appointment_start")]

    operations = [migrations.RunPython(fill_appointment_start, migrations.RunPython.noop)]
