"""Reminders left `claimed` (a worker killed mid-send) or `failed` (an outage) before the outbox
were never looked at again. Those for visits still ahead become parked outbox messages with the
reason, so administrators and supervisors see them and choose: send again or cancel."""

import uuid

from django.conf import settings
from django.db import migrations
from django.utils import timezone

REASONS = {
    "claimed": (
        "The worker stopped while sending, before deliveries were kept in the outbox: "
        "whether it arrived is unknown."
    ),
    "failed": "Failed before deliveries were retried by the outbox",
}


def park_left_behind(apps, schema_editor):
    ReminderDelivery = apps.get_model("messaging", "ReminderDelivery")
    OutboxMessage = apps.get_model("messaging", "OutboxMessage")
    now = timezone.now()
    domain = str(settings.DEFAULT_FROM_EMAIL).rpartition("@")[2].strip(" >") or "frontdesk.invalid"
    queued = set(OutboxMessage.objects.filter(kind="reminder").values_list("object_id", flat=True))
    left = ReminderDelivery.objects.filter(
        status__in=list(REASONS), appointment__start__gt=now
    ).select_related("appointment")
    for delivery in left.iterator():
        if delivery.pk in queued:
            continue
        reason = REASONS[delivery.status]
        if delivery.status == "failed" and delivery.error:
            reason = f"{reason}: {delivery.error}"
        token = uuid.uuid4().hex
        OutboxMessage.objects.create(
            clinic_id=delivery.appointment.clinic_id,
            patient_id=delivery.appointment.patient_id,
            key=f"reminder:{delivery.pk}",
            kind="reminder",
            object_id=delivery.pk,
            status="parked",
            attempts=1,
            next_attempt_at=now,
            parked_at=now,
            message_id=f"<reminder.{delivery.pk}.{token}@{domain}>",
            idempotency_key=token,
            last_error=reason[:300],
            created_at=delivery.claimed_at,
        )
        ReminderDelivery.objects.filter(pk=delivery.pk).update(status="failed", error=reason[:300])


class Migration(migrations.Migration):
    dependencies = [("messaging", "0006_outbox")]

    operations = [migrations.RunPython(park_left_behind, migrations.RunPython.noop)]
