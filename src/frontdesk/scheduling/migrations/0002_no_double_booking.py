"""The database refuses double bookings (see frontdesk.scheduling.constraints)."""

from django.db import migrations

from frontdesk.scheduling.constraints import (
    double_booking_guard_create,
    double_booking_guard_drop,
)


def create(apps, schema_editor):
    double_booking_guard_create(schema_editor.connection)


def drop(apps, schema_editor):
    double_booking_guard_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
