from __future__ import annotations

from django.db import models
from django.db.models import Q

from frontdesk.clinic.models import Clinic
from frontdesk.desk.pools import Pool


class DeskVersion(models.Model):
    """A counter per clinic, raised in the same transaction as every change to work on the desk
    queue, so an open desk queue can ask "anything new since N?" cheaply."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.version}"


class DeskItem(models.Model):
    """What the desk itself knows of one item of work: who has claimed it, until when it is
    snoozed and why, and who it was handed to. The work itself stays in its own app (the item
    is `kind` + `ref`, the source's row); a row here is made the first time an officer acts."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    ref = models.BigIntegerField()
    claimed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=200, blank=True)
    handed_to = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handed_to_pool = models.CharField(max_length=20, choices=Pool.choices, blank=True)
    handed_at = models.DateTimeField(null=True, blank=True)
    handed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "kind", "ref"], name="desk_item_once"),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True) | Q(claimed_at__isnull=False),
                name="desk_item_claim_has_time",
            ),
            models.CheckConstraint(
                condition=Q(snoozed_until__isnull=True) | ~Q(snooze_reason=""),
                name="desk_item_snooze_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(handed_to__isnull=True) | Q(handed_to_pool=""),
                name="desk_item_handed_to_one",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"
