"""Office supplies: what the desk keeps in stock, its par level, and every count and change.

No patient data. An item below its par level is desk work (the `supply` kind on the desk
queue), derived from the item itself, so restocking it is what takes it off the queue.
"""

from __future__ import annotations

from django.db import models

from frontdesk.accounts.models import User
from frontdesk.clinic.models import Clinic

# A count larger than any office's shelf: a typo (an extra digit or two), refused in words.
QUANTITY_MAX = 100_000


class SupplyItem(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="supply_items")
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=40)  # "box of 100", "ream", "roll"
    par_level = models.PositiveIntegerField()
    on_hand = models.PositiveIntegerField(default=0)
    supplier = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    # When the count last fell below par: how long it has waited on the desk queue.
    below_par_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="supply_item_name_unique"),
        ]
        indexes = [models.Index(fields=["clinic", "active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def below_par(self) -> bool:
        return self.active and self.on_hand < self.par_level

    @property
    def to_order(self) -> int:
        return max(self.par_level - self.on_hand, 0)


class LogKind(models.TextChoices):
    ADDED = "added", "Added to the list"
    COUNTED = "counted", "Counted"
    RECEIVED = "received", "Delivery received"
    USED = "used", "Taken for use"
    CORRECTED = "corrected", "Corrected"
    CHANGED = "changed", "Details changed"


class SupplyLogEntry(models.Model):
    """Every count and change, with who and when. Only ever added to: a database trigger
    refuses an UPDATE (migration 0002)."""

    item = models.ForeignKey(SupplyItem, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=LogKind.choices)
    change = models.IntegerField(default=0)
    on_hand_after = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.change:+d} on {self.item_id}"
