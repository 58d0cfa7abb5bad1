"""The pools work is handed to: a team, not a person. A pool's members are the staff of its
roles in the same clinic, so a pool never goes stale when staff come and go."""

from __future__ import annotations

from django.db import models

from frontdesk.accounts.roles import Role


class Pool(models.TextChoices):
    DESK = "desk", "Front desk"
    BILLING = "billing", "Billing"
    NURSE_TRIAGE = "nurse_triage", "Nurse triage"
    CLINICIANS = "clinicians", "Physicians"
    SUPERVISORS = "supervisors", "Supervisors"


POOL_ROLES: dict[Pool, frozenset[Role]] = {
    Pool.DESK: frozenset({Role.FRONT_DESK}),
    Pool.BILLING: frozenset({Role.BILLING}),
    Pool.NURSE_TRIAGE: frozenset({Role.NURSE}),
    Pool.CLINICIANS: frozenset({Role.PHYSICIAN}),
    Pool.SUPERVISORS: frozenset({Role.SUPERVISOR}),
}


def pools_of_role(role: str) -> frozenset[Pool]:
    """The pools whose work a member of staff of this role sees as their team's."""
    return frozenset(pool for pool, roles in POOL_ROLES.items() if role in roles)
