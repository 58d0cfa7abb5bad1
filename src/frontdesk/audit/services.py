"""Writing the audit trail. Every service that touches PHI calls `audit_record` itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone

from frontdesk.audit.keys import AuditKey, AuditKeyring, AuditKeyUnavailableError, audit_keyring
from frontdesk.audit.models import (
    AuditAction,
    AuditChainHead,
    AuditEvent,
    AuditEventPatient,
    AuditObject,
)

GENESIS_HASH = "0" * 64
# Events of this type hand the chain to another signing key (see `audit_key_switch`).
KEY_EVENT_TYPE = AuditObject.AUDIT_KEY


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


def _payload(event: AuditEvent) -> dict[str, Any]:
    return {
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


def _canonical_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def legacy_content(event: AuditEvent) -> bytes:
    """The bytes hashed (plain SHA-256) for events written before the chain was keyed."""
    return _canonical_json(_payload(event))


def canonical_content(event: AuditEvent) -> bytes:
    """The exact bytes signed for a keyed event; verification recomputes the same.

    Covers the patients the event links to (sorted), which verification compares with the
    `AuditEventPatient` rows behind "who accessed this patient", and the id of the signing key.
    """
    payload = _payload(event)
    payload["patient_ids"] = sorted(int(pk) for pk in event.patient_ids)
    payload["key_id"] = event.key_id
    return _canonical_json(payload)


def event_hash(event: AuditEvent, key: AuditKey | None) -> str:
    """HMAC-SHA256 of the event under `key`; plain SHA-256 of the old layout when None."""
    if key is None:
        return hashlib.sha256(legacy_content(event)).hexdigest()
    return key.sign(canonical_content(event))


def compute_hash(event: AuditEvent, keyring: AuditKeyring | None = None) -> str:
    """The hash `event` should carry, with the key it names (KeyError when that key is absent)."""
    if not event.key_id:
        return event_hash(event, None)
    return event_hash(event, (keyring or audit_keyring()).by_id[event.key_id])


def audit_record(
    *,
    context: AuditContext,
    action: AuditAction,
    patient_ids: Iterable[int] = (),
    object_type: AuditObject | Literal[""] = "",
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
    keyring = audit_keyring()
    # No savepoint inside the caller's transaction: an event that cannot be written must undo
    # the change it records, so there is nothing to roll back to short of the whole transaction.
    with transaction.atomic(savepoint=False):
        head = _head_locked()
        if head.key_id != keyring.current.key_id:
            keyring, _ = _chain_key_switch(head, keyring)
        return _chain_append(
            head,
            keyring.current,
            context=context,
            action=action,
            ids=ids,
            object_type=object_type,
            object_id=str(object_id),
            detail=dict(detail or {}),
            purpose=purpose if purpose is not None else context.purpose,
            high_priority=high_priority,
        )


@transaction.atomic
def audit_key_switch(*, reload: bool = False) -> AuditEvent | None:
    """Record in the chain that events are signed with the configured key from here on, if the
    chain does not say so yet: after an upgrade from the unkeyed chain, or a key rotation.
    Returns the event written, if any. Also done by the next `audit_record`; the worker and
    `audit rotate-key` call it so the switch does not wait for the next patient access."""
    keyring = audit_keyring(reload=reload)
    head = _head_locked()
    if head.key_id == keyring.current.key_id:
        return None
    return _chain_key_switch(head, keyring)[1]


def _head_locked() -> AuditChainHead:
    # Not get_or_create: its savepoint costs two round trips on every event.
    head = AuditChainHead.objects.select_for_update().filter(id=1).first()
    if head is None:
        AuditChainHead.objects.bulk_create([AuditChainHead(id=1)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(id=1)
    return head


def _chain_key_switch(
    head: AuditChainHead, keyring: AuditKeyring
) -> tuple[AuditKeyring, AuditEvent | None]:
    """Write the event that hands the chain to `keyring.current` (head is locked)."""
    if head.last_seq == 0:
        # An empty chain starts with the current key: the first event names it.
        head.key_id = keyring.current.key_id
        return keyring, None
    previous: AuditKey | None = None
    if head.key_id:
        if head.key_id not in keyring.by_id:
            # Another process rotated the key file; read the keys again.
            keyring = audit_keyring(reload=True)
            if head.key_id == keyring.current.key_id:
                return keyring, None
        previous = keyring.by_id.get(head.key_id)
        if previous is None:
            raise AuditKeyUnavailableError(
                f"The audit trail is signed with key id {head.key_id}, which this process does "
                f"not hold (its key is {keyring.current.key_id}). Restart it with the current "
                "AUDIT_HMAC_KEY, or add that key to AUDIT_HMAC_OLD_KEYS to rotate away from it."
            )
    new_id = keyring.current.key_id
    # A rotation is signed with the retiring key, so only its holder can hand the chain on; the
    # first keyed event after the unkeyed prefix is signed with the new key and pins that prefix.
    event = _chain_append(
        head,
        previous or keyring.current,
        context=SYSTEM_CONTEXT,
        action=AuditAction.SYSTEM,
        ids=[],
        object_type=KEY_EVENT_TYPE,
        object_id=new_id,
        detail={"key_id": new_id, "previous_key_id": head.key_id},
        purpose="audit key rotation" if previous else "audit chain keyed from here",
        high_priority=False,
        head_key_id=new_id,
    )
    return keyring, event


def _chain_append(
    head: AuditChainHead,
    key: AuditKey,
    *,
    context: AuditContext,
    action: AuditAction,
    ids: list[int],
    object_type: str,
    object_id: str,
    detail: dict[str, Any],
    purpose: str,
    high_priority: bool,
    head_key_id: str | None = None,
) -> AuditEvent:
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
        object_id=object_id,
        client_ip=context.client_ip,
        user_agent=context.user_agent,
        purpose=purpose,
        detail=detail,
        high_priority=high_priority,
        prev_hash=head.last_hash,
        key_id=key.key_id,
    )
    event.content_hash = event_hash(event, key)
    head.last_seq = event.seq
    head.last_hash = event.content_hash
    head.key_id = head_key_id or key.key_id
    connection = connections[AuditEvent.objects.db]
    if connection.vendor == "postgresql":
        _append_in_one_statement(connection, event, ids, head)
    else:
        event.save(force_insert=True)
        if ids:
            AuditEventPatient.objects.bulk_create(
                AuditEventPatient(event=event, patient_id_value=pk) for pk in ids
            )
        head.save(update_fields=["last_seq", "last_hash", "key_id"])
    return event


# The event, its patient links and the chain head in one round trip. Every search writes an
# event, so its three statements (and the ORM's work to build them) were a visible part of
# each request. The ORM path above stays for SQLite, where a statement costs no round trip.
_APPEND_SQL = """
WITH event AS (
    INSERT INTO audit_auditevent (
        seq, occurred_at, clinic_id, actor_id, actor_username, actor_role, action,
        patient_ids, object_type, object_id, client_ip, user_agent, purpose, detail,
        high_priority, prev_hash, content_hash, key_id
    ) VALUES (
        %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::inet, %s, %s, %s::jsonb, %s, %s, %s, %s
    ) RETURNING id
), links AS (
    INSERT INTO audit_auditeventpatient (event_id, patient_id)
    SELECT event.id, patient_id FROM event, unnest(%s::bigint[]) AS patient_id
), head AS (
    UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s, key_id = %s WHERE id = 1
)
SELECT id FROM event
"""


def _append_in_one_statement(
    connection: BaseDatabaseWrapper, event: AuditEvent, ids: list[int], head: AuditChainHead
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
                event.key_id,
                ids,
                head.last_seq,
                head.last_hash,
                head.key_id,
            ],
        )
        row = cursor.fetchone()
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias
