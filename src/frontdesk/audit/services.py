"""Writing the audit trail. Every service that touches PHI calls `audit_record` itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditChainHead, AuditEvent, AuditEventPatient

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, from where, and why. Built once per request by `audit_context`."""

    actor_id: int | None
    actor_username: str
    actor_role: str
    clinic_id: int | None
    client_ip: str | None
    user_agent: str
    purpose: str


SYSTEM_CONTEXT = AuditContext(None, "system", "", None, None, "", "system operation")

# Default purpose of use per role (HIPAA "treatment, payment, operations").
_ROLE_PURPOSE = {
    "front_desk": "operations: patient services",
    "nurse": "treatment",
    "physician": "treatment",
    "billing": "payment",
    "supervisor": "operations: supervision",
    "admin": "operations: administration",
}


def audit_context(request: HttpRequest, *, purpose: str | None = None) -> AuditContext:
    user = request.user
    role = str(getattr(user, "role", ""))
    return AuditContext(
        actor_id=int(user.pk) if user.is_authenticated and user.pk is not None else None,
        actor_username=user.get_username() if user.is_authenticated else "",
        actor_role=role,
        clinic_id=getattr(user, "clinic_id", None),
        client_ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=str(request.META.get("HTTP_USER_AGENT", "")).replace("\x00", "")[:300],
        purpose=purpose or _ROLE_PURPOSE.get(role, ""),
    )


def canonical_content(event: AuditEvent) -> bytes:
    """The exact bytes hashed for an event; verification recomputes the same."""
    payload: dict[str, Any] = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "clinic_id": event.clinic_id_value,
        "actor_id": event.actor_id_value,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "action": event.action,
        "patient_ids": list(event.patient_ids),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_ip": event.client_ip,
        "user_agent": event.user_agent,
        "purpose": event.purpose,
        "detail": event.detail,
        "high_priority": event.high_priority,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


def audit_record(
    *,
    context: AuditContext,
    action: AuditAction,
    patient_ids: Iterable[int] = (),
    object_type: str = "",
    object_id: str | int = "",
    detail: Mapping[str, Any] | None = None,
    purpose: str | None = None,
    high_priority: bool = False,
) -> AuditEvent:
    """Append one event to the chain.

    Runs inside the caller's transaction (so the event commits or rolls back with the change it
    records). Locks the chain head row: on PostgreSQL with SELECT … FOR UPDATE, on SQLite the
    IMMEDIATE transaction already holds the database write lock.
    """
    ids = sorted({int(pk) for pk in patient_ids})
    # No savepoint inside the caller's transaction: an event that cannot be written must undo
    # the change it records, so there is nothing to roll back to short of the whole transaction.
    with transaction.atomic(savepoint=False):
        # Not get_or_create: its savepoint costs two round trips on every event.
        head = AuditChainHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            AuditChainHead.objects.bulk_create([AuditChainHead(id=1)], ignore_conflicts=True)
            head = AuditChainHead.objects.select_for_update().get(id=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            # Truncated to microseconds; every backend stores that precision.
            occurred_at=timezone.now(),
            clinic_id_value=context.clinic_id,
            actor_id_value=context.actor_id,
            actor_username=context.actor_username,
            actor_role=context.actor_role,
            action=action,
            patient_ids=ids,
            object_type=object_type,
            object_id=str(object_id),
            client_ip=context.client_ip,
            user_agent=context.user_agent,
            purpose=purpose if purpose is not None else context.purpose,
            detail=dict(detail or {}),
            high_priority=high_priority,
            prev_hash=head.last_hash,
        )
        event.content_hash = compute_hash(event)
        connection = connections[AuditEvent.objects.db]
        if connection.vendor == "postgresql":
            _append_in_one_statement(connection, event, ids)
        else:
            event.save(force_insert=True)
            if ids:
                AuditEventPatient.objects.bulk_create(
                    AuditEventPatient(event=event, patient_id_value=pk) for pk in ids
                )
            head.last_seq = event.seq
            head.last_hash = event.content_hash
            head.save(update_fields=["last_seq", "last_hash"])
    return event


# The event, its patient links and the chain head in one round trip. Every search writes an
# event, so its three statements (and the ORM's work to build them) were a visible part of
# each request. The ORM path above stays for SQLite, where a statement costs no round trip.
_APPEND_SQL = """
WITH event AS (
    INSERT INTO audit_auditevent (
        seq, occurred_at, clinic_id, actor_id, actor_username, actor_role, action,
        patient_ids, object_type, object_id, client_ip, user_agent, purpose, detail,
        high_priority, prev_hash, content_hash
    ) VALUES (
        %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::inet, %s, %s, %s::jsonb, %s, %s, %s
    ) RETURNING id
), links AS (
    INSERT INTO audit_auditeventpatient (event_id, patient_id)
    SELECT event.id, patient_id FROM event, unnest(%s::bigint[]) AS patient_id
), head AS (
    UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = 1
)
SELECT id FROM event
"""


def _append_in_one_statement(
    connection: BaseDatabaseWrapper, event: AuditEvent, ids: list[int]
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _APPEND_SQL,
            [
                event.seq,
                event.occurred_at,
                event.clinic_id_value,
                event.actor_id_value,
                event.actor_username,
                event.actor_role,
                str(event.action),
                json.dumps(event.patient_ids),
                event.object_type,
                event.object_id,
                event.client_ip,
                event.user_agent,
                event.purpose,
                json.dumps(event.detail),
                event.high_priority,
                event.prev_hash,
                event.content_hash,
                ids,
                event.seq,
                event.content_hash,
            ],
        )
        row = cursor.fetchone()
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias
