"""The demo outbox: what patients would have received, kept instead of sent (FRONTDESK_DEMO)."""

from __future__ import annotations

from django.db import models

from frontdesk.clinic.models import Clinic
from frontdesk.patients.models import Patient


class DemoMessage(models.Model):
    """One email or text message the demo handed to its channel. Outside demo mode nothing
    writes here: messages go to the mail server and the text-message provider."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()
    channel = models.CharField(max_length=10)  # "email" or "sms", as messaging.channels says
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()  # the email's text part, or the text message
    # The message's Message-ID or idempotency key: a second attempt of one message is kept once.
    key = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~models.Q(key=""), name="demo_message_once_per_key"
            ),
        ]
        indexes = [models.Index(fields=["clinic", "-sent_at"], name="demo_message_latest")]

    def __str__(self) -> str:
        return f"{self.channel} to patient {self.patient_id}: {self.subject}"
