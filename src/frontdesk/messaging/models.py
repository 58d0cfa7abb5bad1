"""Appointment reminders: when to send them (rules per clinic) and what was sent (deliveries)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from frontdesk.clinic.models import Clinic
from frontdesk.scheduling.models import Appointment

# Sent when a clinic has no rules yet: three days and one day before the visit.
DEFAULT_REMINDER_HOURS = (72, 24)


class ReminderRule(models.Model):
    """Send a reminder this many hours before an appointment starts."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="reminder_rules")
    hours_before = models.PositiveSmallIntegerField()
    # Rules are switched off, not deleted: a clinic with no rule rows at all gets the defaults.
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["clinic", "-hours_before"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "hours_before"], name="reminder_rule_once"),
            models.CheckConstraint(
                condition=Q(hours_before__gte=1, hours_before__lte=24 * 30),
                name="reminder_rule_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hours_before} hours before"


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed (sending, or the worker stopped while sending)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ReminderDelivery(models.Model):
    """One reminder for one appointment, rule and appointment time. The row is inserted and
    committed (claimed) before the message goes out; the unique constraint makes a second claim
    fail, so a reminder is never sent twice, whatever the workers do. A moved appointment is a
    new time, so its reminders start afresh. A claim left by a worker that stopped while
    sending stays claimed and is never retried: a missed reminder beats a duplicate."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="reminder_deliveries"
    )
    rule = models.ForeignKey(ReminderRule, on_delete=models.PROTECT, related_name="deliveries")
    # The appointment's start this reminder was for (it may have moved since).
    appointment_start = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    channel = models.CharField(max_length=10, blank=True)  # "email" or "sms" once sent
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "rule", "appointment_start"],
                name="reminder_once_per_rule_and_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="reminder_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.SENT, sent_at__isnull=False)
                | (~Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=True)),
                name="reminder_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"reminder {self.rule} for appointment {self.appointment_id}: {self.status}"
