"""Series get their own structure: with whom, where and what (no longer read from the first
appointment), the count or last date as planned, who booked it, and one SeriesVisit per planned
occurrence (no longer parsed from the appointment's note).

Series saved before this change are filled in from their appointments, once, here: the note
"Series visit N of M" places an appointment, and a cancelled row whose reason starts with
"Skipped" was how a skipped visit used to be kept."""

import datetime as dt
import itertools
import re
import zoneinfo

import django.db.models.deletion
from dateutil.rrule import rrulestr
from django.conf import settings
from django.db import migrations, models

_NOTE = re.compile(r"^Series visit (\d+) of (\d+)")
_COUNT = re.compile(r"COUNT=(\d+)")
_UNTIL = re.compile(r"UNTIL=(\d{8})")
MAX_VISITS = 52


def _planned(rule_text, zone):
    try:
        found = list(itertools.islice(rrulestr(rule_text), MAX_VISITS))
    except (ValueError, TypeError, OverflowError):
        return []
    return [when if when.tzinfo else when.replace(tzinfo=zone) for when in found]


def series_fill(apps, schema_editor):
    AppointmentSeries = apps.get_model("scheduling", "AppointmentSeries")
    Appointment = apps.get_model("scheduling", "Appointment")
    AppointmentHistory = apps.get_model("scheduling", "AppointmentHistory")
    SeriesVisit = apps.get_model("scheduling", "SeriesVisit")
    zone = zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)
    for series in AppointmentSeries.objects.order_by("pk").iterator():
        appointments = list(Appointment.objects.filter(series=series).order_by("start", "pk"))
        if not appointments:
            # Booking a series always booked at least one visit and appointments are never
            # deleted, so such a row can only be a bare rule: nothing to show or resolve.
            series.delete()
            continue
        first = appointments[0]
        series.schedule_id = first.schedule_id
        series.appointment_type_id = first.appointment_type_id
        opened = AppointmentHistory.objects.filter(appointment=first).order_by("at", "pk").first()
        series.created_by_id = opened.by_id if opened is not None else None
        count = _COUNT.search(series.rrule)
        until = _UNTIL.search(series.rrule)
        if count is not None and int(count.group(1)) >= 1:
            series.count = int(count.group(1))
        elif until is not None:
            series.until = dt.datetime.strptime(until.group(1), "%Y%m%d").date()  # noqa: DTZ007
        series.save(update_fields=["schedule", "appointment_type", "created_by", "count", "until"])
        by_number = {}
        for appointment in appointments:
            match = _NOTE.match(appointment.note)
            if match:
                by_number[int(match.group(1))] = appointment  # the latest row of a visit wins
        visits = []
        for number, start in enumerate(_planned(series.rrule, zone), start=1):
            visit = SeriesVisit(series=series, position=number, planned_start=start)
            held = by_number.get(number)
            if held is None:
                visit.status = "conflict"
                visit.conflict_reason = "Not booked as planned"
            elif held.status == "cancelled" and held.cancel_reason.startswith("Skipped"):
                why = held.cancel_reason.removeprefix("Skipped").lstrip(": ")
                cancelled = why.startswith("series cancelled")
                visit.status = "cancelled" if cancelled else "skipped"
                visit.skip_reason = why[:200]
            else:
                visit.status = "cancelled" if held.status == "cancelled" else "booked"
                visit.appointment = held
            visits.append(visit)
        SeriesVisit.objects.bulk_create(visits)
    if schema_editor.connection.vendor == "postgresql":
        # The rows above queued deferred foreign-key checks; run them now, or PostgreSQL
        # refuses the ALTER TABLE that follows ("pending trigger events").
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_provider_staff_account_and_feed_version"),
        ("scheduling", "0003_waitlist_entries_and_offers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SeriesVisit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField()),
                ("planned_start", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("planned", "Planned"),
                            ("booked", "Booked"),
                            ("conflict", "Conflict"),
                            ("skipped", "Skipped"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="planned",
                        max_length=10,
                    ),
                ),
                ("skip_reason", models.CharField(blank=True, max_length=200)),
                ("conflict_reason", models.CharField(blank=True, max_length=200)),
            ],
            options={
                "ordering": ["series", "position"],
            },
        ),
        migrations.AddField(
            model_name="appointmentseries",
            name="appointment_type",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series",
                to="clinic.appointmenttype",
            ),
        ),
        migrations.AddField(
            model_name="appointmentseries",
            name="count",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="appointmentseries",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="appointmentseries",
            name="schedule",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series",
                to="scheduling.schedule",
            ),
        ),
        migrations.AddField(
            model_name="appointmentseries",
            name="until",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="appointmentseries",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("count__isnull", True), ("until__isnull", True), _connector="OR"
                ),
                name="series_count_or_until",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointmentseries",
            constraint=models.CheckConstraint(
                condition=models.Q(("count__isnull", True), ("count__gte", 1), _connector="OR"),
                name="series_count_positive",
            ),
        ),
        migrations.AddField(
            model_name="seriesvisit",
            name="appointment",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series_visit",
                to="scheduling.appointment",
            ),
        ),
        migrations.AddField(
            model_name="seriesvisit",
            name="series",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="visits",
                to="scheduling.appointmentseries",
            ),
        ),
        migrations.AddConstraint(
            model_name="seriesvisit",
            constraint=models.UniqueConstraint(
                fields=("series", "position"), name="series_visit_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="seriesvisit",
            constraint=models.CheckConstraint(
                condition=models.Q(("position__gte", 1)), name="series_visit_position"
            ),
        ),
        migrations.AddConstraint(
            model_name="seriesvisit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "booked"), _negated=True),
                    ("appointment__isnull", False),
                    _connector="OR",
                ),
                name="series_visit_booked_has_appointment",
            ),
        ),
        migrations.AddConstraint(
            model_name="seriesvisit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("appointment__isnull", True),
                    ("status__in", ["booked", "cancelled"]),
                    _connector="OR",
                ),
                name="series_visit_appointment_when_booked",
            ),
        ),
        migrations.RunPython(series_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointmentseries",
            name="schedule",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series",
                to="scheduling.schedule",
            ),
        ),
        migrations.AlterField(
            model_name="appointmentseries",
            name="appointment_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series",
                to="clinic.appointmenttype",
            ),
        ),
    ]
