"""Playbooks: the clinic's short standard procedures for the front desk's recurring situations."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from frontdesk.clinic.models import Clinic


class PlaybookKey(models.TextChoices):
    LATE_PATIENT = "late_patient", "Late patient"
    UPSET_PATIENT = "upset_patient", "Upset or difficult patient"
    MEDICAL_QUESTION = "medical_question", "Medical question at the desk"
    BUSY_WAITING_ROOM = "busy_waiting_room", "Busy waiting room"
    CONFIDENTIALITY = "confidentiality", "Confidentiality at the desk"
    SYSTEM_OUTAGE = "system_outage", "System outage"
    EMERGENCY = "emergency", "Emergency at the desk"


TITLE_MAX = 120
STEPS_MAX = 6000


class Playbook(models.Model):
    """One clinic's text for one scenario. A clinic has at most one per scenario; a scenario
    without a row is shown with the default text (defaults.py)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="playbooks")
    key = models.CharField(max_length=40, choices=PlaybookKey.choices)
    title = models.CharField(max_length=TITLE_MAX)
    steps = models.TextField()
    # Raised by every change, so an edit made from an older copy is refused, not overwritten.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "key"], name="playbook_one_per_scenario"),
            models.CheckConstraint(
                condition=models.Q(key__in=PlaybookKey.values), name="playbook_known_scenario"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="playbook_has_title"),
            models.CheckConstraint(condition=~models.Q(steps=""), name="playbook_has_steps"),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="playbook_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.clinic_id})"
