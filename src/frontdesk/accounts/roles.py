from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", "Patient services officer"
    NURSE = "nurse", "Nurse / medical assistant"
    PHYSICIAN = "physician", "Physician / provider"
    BILLING = "billing", "Billing"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Administrator"


# Roles whose accounts can override, merge and read the audit trail must prove a second factor.
TWO_FACTOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
