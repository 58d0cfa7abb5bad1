"""Append-only PHI access trail (HIPAA §164.312(b)), chained with a keyed hash (HMAC) so
tampering is detectable by whoever holds the key."""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    MERGE = "merge", "Merged"
    UNMERGE = "unmerge", "Unmerged"
    PRINT = "print", "Printed"
    EXPORT = "export", "Exported"
    REVEAL = "reveal", "Revealed a masked field"
    BREAK_GLASS = "break_glass", "Broke the glass"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    SYSTEM = "system", "System operation"


class AuditEvent(models.Model):
    """One event. Rows are only ever inserted (a trigger refuses UPDATE and DELETE).

    `content_hash` is HMAC-SHA256, under the key named by `key_id`, over the canonical JSON of
    every field below (the patient ids sorted) plus `prev_hash`; `seq` is gap-free and unique, so
    a deleted row shows as a gap and an edited row as a hash mismatch (`frontdesk audit verify`).
    Events written before the chain was keyed have an empty `key_id` and plain SHA-256.
    """

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    clinic_id_value = models.BigIntegerField(null=True, db_column="clinic_id")
    actor_id_value = models.BigIntegerField(null=True, db_column="actor_id")
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    patient_ids = models.JSONField(default=list)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict)
    high_priority = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["occurred_at"]), models.Index(fields=["actor_id_value"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_username or 'system'}"


class AuditEventPatient(models.Model):
    """Index rows so "who accessed this patient" is one indexed lookup. Also append-only; each
    event's set must equal its signed `patient_ids`, which `audit verify` checks."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="patient_links")
    patient_id_value = models.BigIntegerField(db_column="patient_id")

    class Meta:
        indexes = [models.Index(fields=["patient_id_value", "event"])]

    def __str__(self) -> str:
        return f"event {self.event_id} -> patient {self.patient_id_value}"


class AuditChainHead(models.Model):
    """Single row holding the tip of the chain; locked while an event is appended."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    # The key that signs the next event; "" while the chain is unkeyed. Only a hint for
    # `audit_record` (verification trusts the signed events, not this row).
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"audit chain tip #{self.last_seq}"
