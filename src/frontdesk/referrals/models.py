"""Referrals in (another practice sends a patient to us) and out (we send one to a specialist).

Incoming: received → accepted or declined (with the reason) → scheduled (the visits it led to)
→ seen → report sent back. Outgoing: requested by a physician → sent to a practice of the
clinic's directory → scheduled there (the date they give) → report received.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from frontdesk.clinic.models import Clinic
from frontdesk.documents.models import Document
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment


class Direction(models.TextChoices):
    INCOMING = "incoming", "Incoming"
    OUTGOING = "outgoing", "Outgoing"


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    SCHEDULED = "scheduled", "Scheduled"
    SEEN = "seen", "Seen"
    REPORT_SENT = "report_sent", "Report sent back"
    # Outgoing only.
    REQUESTED = "requested", "Requested"
    SENT = "sent", "Sent"
    REPORT_RECEIVED = "report_received", "Report received"
    CANCELLED = "cancelled", "Cancelled"


# An incoming referral still to be booked: on the desk queue until it is.
UNSCHEDULED = (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED)
CLOSED = (
    ReferralStatus.DECLINED,
    ReferralStatus.REPORT_SENT,
    ReferralStatus.REPORT_RECEIVED,
    ReferralStatus.CANCELLED,
)


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


class ReferralTarget(models.Model):
    """The clinic's promise: an incoming referral booked within so many business days."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    routine_days = models.PositiveSmallIntegerField(default=5)
    urgent_days = models.PositiveSmallIntegerField(default=1)

    def __str__(self) -> str:
        return f"referral target {self.routine_days}/{self.urgent_days} days"


class Practice(models.Model):
    """A practice the clinic refers patients to (its directory); no patient data."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    specialty = models.CharField(max_length=100)
    provider_name = models.CharField(max_length=200, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    address = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["specialty", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="practice_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.specialty})"


class Referral(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = models.TextField()
    specialty = models.CharField(max_length=100, blank=True)
    # Incoming: who referred the patient. Outgoing: the practice from the directory.
    provider_name = models.CharField(max_length=200, blank=True)
    practice_name = models.CharField(max_length=200, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    fax = models.CharField(max_length=20, blank=True)  # E.164
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    # The payer's authorisation for the visits referred.
    auth_number = models.CharField(max_length=50, blank=True)
    auth_visits = models.PositiveSmallIntegerField(null=True, blank=True)
    auth_expires = models.DateField(null=True, blank=True)
    received_at = models.DateTimeField()  # incoming: received; outgoing: requested
    due_at = models.DateTimeField(null=True, blank=True)  # incoming: book by then
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # Outgoing: the appointment the receiving practice gave (their time, not our schedule).
    external_appointment_on = models.DateField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    appointments = models.ManyToManyField(Appointment, blank=True, related_name="referrals")
    documents = models.ManyToManyField(Document, blank=True, related_name="referrals")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "status", "due_at"], name="referral_open"),
            models.Index(fields=["patient", "status"], name="referral_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} referral {self.pk} ({self.status})"
