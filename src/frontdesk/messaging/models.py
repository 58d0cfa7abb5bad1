"""Appointment reminders: when to send them (rules per clinic) and what was sent (deliveries)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from frontdesk.clinic.models import Clinic
from frontdesk.patients.models import Patient
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
    CLAIMED = "claimed", "Queued in the outbox"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ReminderDelivery(models.Model):
    """One reminder for one appointment, rule and appointment time. The row is inserted with
    its outbox message in one transaction; the unique constraint makes a second claim fail, so
    a reminder is queued once whatever the workers do, and the outbox sends it at most once per
    key. A moved appointment is a new time, so its reminders start afresh. The status follows
    the outbox message: claimed (queued) → sent, failed (parked) or skipped."""

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


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    RETRYING = "failed_retrying", "Failed, will be tried again"
    PARKED = "parked", "Not sent: needs a person"
    CANCELLED = "cancelled", "Cancelled"


class OutboxMessage(models.Model):
    """One message to a patient, written in the transaction of the change that causes it and
    sent by the worker (messaging/outbox.py). The row holds a reference (kind and object id),
    not the words: the content is rendered at each attempt, so a retry never sends something
    that stopped being true, and the message's text, with its PHI, is stored nowhere else.

    `key` names the message once ("reminder:12"); `message_id` and `idempotency_key` are fixed
    when the row is written, so every attempt carries the same ones and the receiver can drop a
    duplicate after an attempt whose outcome was unknown."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    # A named reverse relation: merging records moves the messages with the rest.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outbox_messages")
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    # The channel chosen when written (the patient's consent may change it at sending).
    channel = models.CharField(max_length=10, blank=True)
    # The address or number of the last attempt: PHI, never logged, never shown on lists.
    recipient = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    # In words, without the address: servers' own texts are never copied here.
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["status", "lease_until"], name="outbox_lease"),
            models.Index(fields=["clinic", "status"], name="outbox_clinic_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=OutboxStatus.SENT, sent_at__isnull=False)
                | (~Q(status=OutboxStatus.SENT) & Q(sent_at__isnull=True)),
                name="outbox_sent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status=OutboxStatus.PARKED, parked_at__isnull=False)
                | (~Q(status=OutboxStatus.PARKED) & Q(parked_at__isnull=True)),
                name="outbox_parked_has_time",
            ),
            # A message being sent is always held under a lease the sweeper can see expire.
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENDING) | Q(lease_until__isnull=False),
                name="outbox_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.status}"
