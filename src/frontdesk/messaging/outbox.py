"""The outbox: every message Frontdesk sends to a patient, written as a row in the transaction of
the change that causes it and sent by the worker, so a crash at any moment loses nothing.

A message's life: pending → sending (claimed under a lease, committed before anything goes out)
→ sent | failed_retrying (tried again with growing pauses) | parked (refused for good, or past
OUTBOX_MAX_ATTEMPTS: shown to administrators and supervisors with the reason) | cancelled (it
stopped making sense: the appointment was cancelled or moved, the offer closed, the patient
withdrew consent).

A lease that runs out while a message is `sending` means the worker stopped mid-send: whether
the server took the message is unknown. It is sent again with the same Message-ID header and
the same Idempotency-Key, both fixed when the row was written, so the receiver can drop the
duplicate: at most one distinct message per key. That counts as an attempt.

Each kind of message (a reminder, a waitlist offer, a "time gone" note) registers how to render
itself at sending time and whether it still makes sense (`OutboxKind`), from its app's
`ready()`. The row keeps a reference, not the words, so a retry renders what is true now.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.messaging.channels import (
    DeliveryError,
    NoConsentedChannel,
    consented_channels,
    deliver,
    message_sent_record,
)
from frontdesk.messaging.models import OutboxMessage, OutboxStatus
from frontdesk.patients.models import Patient

logger = logging.getLogger(__name__)

# Pauses between attempts: 1, 2, 4, 8, 16, then every 30 minutes, each shortened by up to half
# at random so messages that failed together do not all come back in the same second.
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_LONGEST = dt.timedelta(minutes=30)
# Messages one run of the worker takes at most; the next run (a minute later) takes the rest.
RUN_LIMIT = 200

_OPEN = (OutboxStatus.PENDING, OutboxStatus.RETRYING)


class NotRelevantError(Exception):
    """The message no longer makes sense (the text says why); it is cancelled, not sent."""


@dataclass(frozen=True)
class Outgoing:
    """What to send, rendered at sending time from the message's reference."""

    patient: Patient
    subject: str
    text: str
    html: str | None = None
    sms_text: str | None = None
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    context: AuditContext = SYSTEM_CONTEXT


@dataclass(frozen=True)
class OutboxKind:
    """One kind of message. `prepare` reads the referenced object as it is now and returns
    what to send, or raises NotRelevantError; `on_status` runs in the transaction that moves
    the message to sent, parked, cancelled or (retried by a person) pending, so the object can
    record the outcome (a reminder's delivery row, an offer's channel)."""

    name: str
    label: str  # for people: "Appointment reminder"
    prepare: Callable[[OutboxMessage, dt.datetime], Outgoing]
    on_status: Callable[[OutboxMessage], None]


_KINDS: dict[str, OutboxKind] = {}


def outbox_kind_register(kind: OutboxKind) -> None:
    """Called from an app's `ready()`; registering the same name again replaces it."""
    _KINDS[kind.name] = kind


def outbox_kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else name


# --- Writing ------------------------------------------------------------------------------------


def _message_id_domain() -> str:
    # Stable across hosts and restarts (make_msgid's default, the host name, is neither).
    _, _, domain = str(settings.DEFAULT_FROM_EMAIL).rpartition("@")
    return domain.strip(" >") or "frontdesk.invalid"


def outbox_add(
    *,
    kind: str,
    object_id: int,
    patient: Patient,
    key: str = "",
    now: dt.datetime | None = None,
) -> OutboxMessage | None:
    """Queue one message to `patient`; call it inside the transaction of the change that causes
    it, so the message exists exactly when the change does. `key` (default "<kind>:<object
    id>") names it once: a second call with the same key queues nothing and returns None.
    The Message-ID and idempotency key are fixed here, for every attempt to come."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    channels = consented_channels(patient)
    message = OutboxMessage(
        clinic_id=patient.clinic_id,
        patient=patient,
        key=key or f"{kind}:{object_id}",
        kind=kind,
        object_id=object_id,
        channel=channels[0] if channels else "",
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        message_id=f"<{kind}.{object_id}.{token}@{_message_id_domain()}>",
        idempotency_key=token,
        created_at=now,
    )
    try:
        with transaction.atomic():  # a savepoint: a duplicate key leaves the caller's work intact
            message.save(force_insert=True)
    except IntegrityError:
        if OutboxMessage.objects.filter(key=message.key).exists():
            return None
        raise
    return message


# --- Sending ------------------------------------------------------------------------------------


@dataclass
class OutboxRun:
    """What one run of the worker did, by outcome."""

    sent: int = 0
    retrying: int = 0
    parked: int = 0
    cancelled: int = 0


def retry_delay(attempts: int) -> dt.timedelta:
    """The pause after the `attempts`-th failed attempt: doubling, capped, with jitter."""
    longest = RETRY_LONGEST.total_seconds()
    full = min(longest, RETRY_FIRST.total_seconds() * 2 ** max(attempts - 1, 0))
    # Jitter only spreads retries out; it guards nothing, so `random` is the right tool.
    return dt.timedelta(seconds=full * random.uniform(0.5, 1.0))  # noqa: S311


def _context(message: OutboxMessage) -> AuditContext:
    return dataclasses.replace(
        SYSTEM_CONTEXT, clinic_id=message.clinic_id, purpose="operations: patient messages"
    )


def _audit(message: OutboxMessage, event: str, *, context: AuditContext | None = None) -> None:
    audit_record(
        context=context or _context(message),
        action=AuditAction.SYSTEM if context is None else AuditAction.UPDATE,
        patient_ids=[message.patient_id],
        object_type=AuditObject.OUTBOX_MESSAGE,
        object_id=message.pk,
        detail={
            "event": event,
            "key": message.key,
            "status": message.status,
            "attempts": message.attempts,
            "reason": message.last_error,
        },
    )


def _notify_kind(message: OutboxMessage) -> None:
    kind = _KINDS.get(message.kind)
    if kind is not None:
        kind.on_status(message)


def _due(now: dt.datetime) -> Q:
    return Q(status__in=_OPEN, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_until__lte=now
    )


def _park(message: OutboxMessage, reason: str, now: dt.datetime) -> None:
    """Inside a transaction holding the row."""
    message.status = OutboxStatus.PARKED
    message.parked_at = now
    message.lease_until = None
    message.last_error = reason[:300]
    message.save(update_fields=["status", "parked_at", "lease_until", "last_error"])
    _notify_kind(message)
    _audit(message, "message parked")
    # The key and the reason only: neither names the patient nor holds an address.
    logger.warning("outbox message %s parked: %s", message.key, message.last_error)


def _claim(now: dt.datetime, skip_channels: Sequence[str]) -> OutboxMessage | None:
    """Take the next due message under a lease and commit that before anything is sent. A
    `sending` row whose lease ran out was being sent by a worker that stopped: it is taken
    again (same Message-ID), or parked once its attempts are used up. Returns None when
    nothing is due; a message parked here is not returned.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so workers take different rows without waiting.
    SQLite: the IMMEDIATE transaction serialises claims."""
    while True:
        with transaction.atomic(durable=True):
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(_due(now))
                .exclude(channel__in=list(skip_channels))
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if message is None:
                return None
            if message.status == OutboxStatus.SENDING:
                message.last_error = (
                    "The worker stopped while sending (attempt "
                    f"{message.attempts}): whether it arrived is unknown."
                )
                if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                    _park(message, message.last_error, now)
                    continue
            message.status = OutboxStatus.SENDING
            message.attempts += 1
            message.lease_until = now + settings.OUTBOX_LEASE
            message.save(update_fields=["status", "attempts", "lease_until", "last_error"])
            return message


def _still_mine(message: OutboxMessage) -> OutboxMessage | None:
    """The row, locked, if this worker's claim still holds (no other worker took it over)."""
    row = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
    if row is None or row.status != OutboxStatus.SENDING or row.attempts != message.attempts:
        return None
    return row


def _mark_sent(message: OutboxMessage, outgoing: Outgoing, channel: str, recipient: str) -> None:
    """Record the message sent and audit it, once: a slow worker and the one that took over its
    expired lease may both get here, and only the first records it."""
    now = timezone.now()
    with transaction.atomic():
        updated = (
            OutboxMessage.objects.filter(pk=message.pk)
            .exclude(status__in=(OutboxStatus.SENT, OutboxStatus.CANCELLED))
            .update(
                status=OutboxStatus.SENT,
                sent_at=now,
                parked_at=None,
                lease_until=None,
                channel=channel,
                recipient=recipient,
            )
        )
        if not updated:
            return
        message.refresh_from_db()
        _notify_kind(message)
        message_sent_record(
            context=outgoing.context,
            patient_id=message.patient_id,
            channel=channel,
            subject=outgoing.subject,
            key=message.key,
        )


def _mark_failed(message: OutboxMessage, error: DeliveryError, now: dt.datetime) -> str:
    with transaction.atomic():
        row = _still_mine(message)
        if row is None:
            return "taken over"
        if error.permanent:
            _park(row, str(error), now)
            return "parked"
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _park(row, f"Gave up after {row.attempts} attempts. Last: {error}", now)
            return "parked"
        row.status = OutboxStatus.RETRYING
        row.lease_until = None
        row.last_error = str(error)[:300]
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.save(update_fields=["status", "lease_until", "last_error", "next_attempt_at"])
        return "retrying"


def _mark_cancelled(message: OutboxMessage, reason: str) -> None:
    with transaction.atomic():
        row = _still_mine(message)
        if row is None:
            return
        row.status = OutboxStatus.CANCELLED
        row.lease_until = None
        row.last_error = reason[:300]
        row.save(update_fields=["status", "lease_until", "last_error"])
        _notify_kind(row)
        _audit(row, "message no longer needed")


def _mark_unpreparable(message: OutboxMessage, reason: str, now: dt.datetime) -> None:
    with transaction.atomic():
        row = _still_mine(message)
        if row is not None:
            _park(row, reason, now)


def _attempt(message: OutboxMessage, now: dt.datetime) -> tuple[str, bool]:
    """Render and send one claimed message; returns (outcome, whether its channel is down)."""
    kind = _KINDS.get(message.kind)
    try:
        if kind is None:
            raise LookupError(f"no sender is registered for {message.kind!r} messages")
        outgoing = kind.prepare(message, now)
    except NotRelevantError as exc:
        _mark_cancelled(message, str(exc))
        return "cancelled", False
    except Exception as exc:
        # A bug, not the network: parked for a person to see; the trace goes to the log.
        logger.exception("outbox message %s could not be prepared", message.key)
        _mark_unpreparable(message, f"Not prepared: {exc}", now)
        return "parked", False
    try:
        channel, recipient = deliver(
            outgoing.patient,
            subject=outgoing.subject,
            text=outgoing.text,
            html=outgoing.html,
            sms_text=outgoing.sms_text,
            attachments=outgoing.attachments,
            message_id=message.message_id,
            idempotency_key=message.idempotency_key,
        )
    except NoConsentedChannel as exc:
        _mark_cancelled(message, str(exc))
        return "cancelled", False
    except DeliveryError as exc:
        return _mark_failed(message, exc, now), exc.channel_down
    except Exception as exc:
        # Not a refusal we know: the outcome is unknown, so it is tried again (same Message-ID).
        logger.exception("outbox message %s: unexpected error while sending", message.key)
        error = DeliveryError(f"Unexpected error while sending ({type(exc).__name__}).")
        return _mark_failed(message, error, now), False
    _mark_sent(message, outgoing, channel, recipient)
    return "sent", False


def outbox_send_due(*, now: dt.datetime | None = None, limit: int = RUN_LIMIT) -> OutboxRun:
    """The worker's run: claim and send due messages one at a time (each claim committed
    before sending), including those whose lease ran out. Once a channel's server cannot be
    reached, the rest of that channel's messages wait for the next run instead of each
    spending an attempt on the same outage. Safe to run on several workers at once."""
    run = OutboxRun()
    down: set[str] = set()
    for _ in range(limit):
        moment = now or timezone.now()
        message = _claim(moment, sorted(down))
        if message is None:
            break
        outcome, channel_down = _attempt(message, moment)
        if channel_down:
            down.add(message.channel)
        if outcome in {"sent", "retrying", "parked", "cancelled"}:
            setattr(run, outcome, getattr(run, outcome) + 1)
    return run


# --- People: what needs attention, retry, cancel -----------------------------------------------


def outbox_needing_attention(clinic_id: int) -> QuerySet[OutboxMessage]:
    """Parked messages first (newest first), then those failing and due to be tried again."""
    return (
        OutboxMessage.objects.filter(
            clinic_id=clinic_id, status__in=(OutboxStatus.PARKED, OutboxStatus.RETRYING)
        )
        .select_related("patient")
        # "parked" sorts after "failed_retrying", so descending puts parked ones first.
        .order_by("-status", "-parked_at", "next_attempt_at", "pk")
    )


def outbox_parked_count(clinic_id: int) -> int:
    return OutboxMessage.objects.filter(clinic_id=clinic_id, status=OutboxStatus.PARKED).count()


class OutboxActionRefusedError(Exception):
    """The message cannot be retried or cancelled any more; the text says why."""


def _lock_for_person(user: User, message_pk: int) -> OutboxMessage:
    """The message, locked, if it is of the user's clinic (else DoesNotExist: a 404)."""
    message = (
        OutboxMessage.objects.select_for_update()
        .filter(pk=message_pk, clinic_id=user.clinic_id or 0)
        .first()
    )
    if message is None:
        raise OutboxMessage.DoesNotExist
    if message.status not in (OutboxStatus.PARKED, OutboxStatus.RETRYING):
        raise OutboxActionRefusedError(
            f"This message is {message.get_status_display().lower()} now, so nothing was changed."
        )
    return message


@transaction.atomic
def outbox_retry(*, context: AuditContext, user: User, message_pk: int) -> OutboxMessage:
    """A person sends a parked (or retrying) message again now, with a fresh set of attempts;
    it is still checked for relevance, and keeps its Message-ID."""
    message = _lock_for_person(user, message_pk)
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.parked_at = None
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempts", "parked_at", "next_attempt_at"])
    _notify_kind(message)
    _audit(message, f"sent again by {user.username}", context=context)
    return message


@transaction.atomic
def outbox_cancel(*, context: AuditContext, user: User, message_pk: int) -> OutboxMessage:
    """A person decides a parked (or retrying) message will not be sent."""
    message = _lock_for_person(user, message_pk)
    message.status = OutboxStatus.CANCELLED
    message.parked_at = None
    message.last_error = f"Cancelled by {user.username}. {message.last_error}"[:300]
    message.save(update_fields=["status", "parked_at", "last_error"])
    _notify_kind(message)
    _audit(message, f"cancelled by {user.username}", context=context)
    return message
