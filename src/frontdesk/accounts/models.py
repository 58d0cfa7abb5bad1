from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from frontdesk.accounts.roles import TWO_FACTOR_ROLES, Role
from frontdesk.clinic.models import Clinic


class User(AbstractUser):
    """A member of staff. Patients never have accounts; they use signed links."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff", null=True)
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    @property
    def needs_two_factor(self) -> bool:
        return self.role in TWO_FACTOR_ROLES

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else ""
