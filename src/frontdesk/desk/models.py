from __future__ import annotations

from django.db import models

from frontdesk.clinic.models import Clinic


class DeskVersion(models.Model):
    """A counter per clinic, raised in the same transaction as every change to work on the desk
    queue, so an open desk queue can ask "anything new since N?" cheaply."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.version}"
