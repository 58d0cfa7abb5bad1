"""Emergencies at the desk: an emergency in the queue is never given a wait; it raises an alert
on every nurse's and physician's screen (and the board), with sound, until one of them
acknowledges it ("I am going"). Unacknowledged after EMERGENCY_ESCALATE_MINUTES, the worker
escalates it to the supervisor. The desk sees who is going, and the emergency playbook.

The banner is on every page of the roles that work the flow, so it costs one indexed query
(`emergency_alert_open`) and none for the other roles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.flow import live
from frontdesk.flow.models import EmergencyAlert, QueueEntry
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import SupervisorNotice

# Only the clinicians who can go to the patient may say "I am going".
ACKNOWLEDGING_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN})
# Who sees the banner on every page: the clinicians, the desk (who is going?) and the
# supervisor (escalations). Billing and administrators are not called to a patient.
BANNER_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN, Role.FRONT_DESK, Role.SUPERVISOR})
# The desk and the supervisor keep seeing who went for this long after the acknowledgement.
ACKNOWLEDGED_SHOWN_MINUTES = 15
BANNER_LIMIT = 10


class EmergencyRefusedError(Exception):
    """The alert cannot be acknowledged by this user; the message says why."""


def _local_time(moment: dt.datetime, clinic_id: int) -> str:
    return f"{moment.astimezone(clinic_zone(clinic_id)):%H:%M}"


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def emergency_alert_raise(
    *, context: AuditContext, user: User | None, entry: QueueEntry, now: dt.datetime
) -> EmergencyAlert:
    """Alert the clinical staff of an emergency in the queue; call inside the transaction that
    queued it (the caller raises the flow version, which wakes every banner and board)."""
    alert = EmergencyAlert.objects.create(
        clinic_id=entry.clinic_id, entry=entry, raised_at=now, raised_by=user
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[entry.patient_id],
        object_type=AuditObject.EMERGENCY_ALERT,
        object_id=alert.pk,
        detail={"ticket": entry.ticket},
        high_priority=True,
    )
    return alert


@transaction.atomic
def emergency_alert_acknowledge(
    *, context: AuditContext, user: User, alert: EmergencyAlert, now: dt.datetime | None = None
) -> EmergencyAlert:
    """A nurse or physician is going to the patient. Acknowledging an alert someone else
    acknowledged a moment earlier changes nothing and says who that was."""
    if user.role not in ACKNOWLEDGING_ROLES:
        raise EmergencyRefusedError("Only a nurse or a physician can acknowledge an emergency.")
    if alert.clinic_id != user.clinic_id:
        raise EmergencyRefusedError("This emergency is not at your clinic.")
    now = now or timezone.now()
    updated = EmergencyAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=user
    )
    alert.refresh_from_db()
    if not updated:
        by = alert.acknowledged_by
        when = _local_time(alert.acknowledged_at, alert.clinic_id) if alert.acknowledged_at else ""
        raise EmergencyRefusedError(
            f"{_name(by) if by else 'Someone'} already acknowledged this emergency at {when}."
        )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[alert.entry.patient_id],
        object_type=AuditObject.EMERGENCY_ALERT,
        object_id=alert.pk,
        detail={"acknowledged_by": user.username, "ticket": alert.entry.ticket},
        high_priority=True,
    )
    live.flow_changed(alert.clinic_id)
    return alert


def emergency_alerts_acknowledge_for_entry(
    *, context: AuditContext, user: User | None, entry: QueueEntry, now: dt.datetime
) -> None:
    """A nurse or physician who calls or takes in the patient has gone to them: their move
    acknowledges the open alert (inside the move's transaction)."""
    if user is None or user.role not in ACKNOWLEDGING_ROLES:
        return
    alert = EmergencyAlert.objects.filter(entry=entry, acknowledged_at__isnull=True).first()
    if alert is not None:
        emergency_alert_acknowledge(context=context, user=user, alert=alert, now=now)


def emergency_alerts_escalate(*, context: AuditContext, now: dt.datetime) -> int:
    """Tell the supervisor of every alert nobody acknowledged within EMERGENCY_ESCALATE_MINUTES
    (the worker, every minute). Each alert is escalated once: the conditional UPDATE decides."""
    due = now - dt.timedelta(minutes=settings.EMERGENCY_ESCALATE_MINUTES)
    escalated = 0
    candidates = EmergencyAlert.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True, raised_at__lte=due
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            if not EmergencyAlert.objects.filter(
                pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True
            ).update(escalated_at=now):
                continue  # acknowledged or escalated meanwhile
            alert = EmergencyAlert.objects.select_related("entry").get(pk=pk)
            minutes = int((now - alert.raised_at).total_seconds() // 60)
            raised = _local_time(alert.raised_at, alert.clinic_id)
            # The ticket and the time only, as the end-of-day notice: the supervisor opens the
            # board for the rest.
            SupervisorNotice.objects.create(
                clinic_id=alert.clinic_id,
                created_at=now,
                text=(
                    f"Emergency {alert.entry.ticket} raised at {raised}: "
                    f"no nurse or physician has acknowledged it after {minutes} min. "
                    "Send a clinician to the desk now."
                ),
            )
            audit_record(
                context=context,
                action=AuditAction.SYSTEM,
                patient_ids=[alert.entry.patient_id],
                object_type=AuditObject.EMERGENCY_ALERT,
                object_id=alert.pk,
                detail={"escalated_after_minutes": minutes, "ticket": alert.entry.ticket},
                high_priority=True,
            )
            live.flow_changed(alert.clinic_id)
            escalated += 1
    return escalated


# --- The banner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownAlert:
    pk: int
    ticket: str
    reason: str
    queue: str
    raised_at: dt.datetime
    acknowledged_by: str
    acknowledged_at: dt.datetime | None
    escalated: bool

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


@dataclass(frozen=True)
class EmergencyBanner:
    alerts: list[ShownAlert]
    may_acknowledge: bool
    sound: bool  # an open alert this user must hear
    playbook: bool  # the desk is shown the emergency playbook

    @property
    def state(self) -> str:
        """What the banner shows, for the page's poll to ask "changed since?"."""
        return "-".join(
            f"{a.pk}{'o' if a.is_open else 'a'}{'e' if a.escalated else ''}" for a in self.alerts
        )


def emergency_banner(user: object, *, now: dt.datetime) -> EmergencyBanner | None:
    """The alerts a member of staff sees on every page, or None for roles the banner is not for
    (without a query). One query: the clinic's open alerts, and for the desk and the supervisor
    those acknowledged in the last ACKNOWLEDGED_SHOWN_MINUTES."""
    role = str(getattr(user, "role", ""))
    clinic_id = getattr(user, "clinic_id", None)
    if role not in BANNER_ROLES or clinic_id is None:
        return None
    shown = Q(acknowledged_at__isnull=True)
    if role not in ACKNOWLEDGING_ROLES:
        recent = now - dt.timedelta(minutes=ACKNOWLEDGED_SHOWN_MINUTES)
        shown |= Q(acknowledged_at__gte=recent)
    rows = (
        EmergencyAlert.objects.filter(shown, clinic_id=clinic_id)
        .select_related("entry__queue", "acknowledged_by")
        .order_by("raised_at", "pk")[:BANNER_LIMIT]
    )
    alerts = [
        ShownAlert(
            pk=row.pk,
            ticket=row.entry.ticket,
            reason=row.entry.priority_reason,
            queue=row.entry.queue.name,
            raised_at=row.raised_at,
            acknowledged_by=_name(row.acknowledged_by) if row.acknowledged_by else "",
            acknowledged_at=row.acknowledged_at,
            escalated=row.escalated_at is not None,
        )
        for row in rows
    ]
    may_acknowledge = role in ACKNOWLEDGING_ROLES
    if role == Role.SUPERVISOR:
        sound = any(a.is_open and a.escalated for a in alerts)
    else:
        sound = may_acknowledge and any(a.is_open for a in alerts)
    return EmergencyBanner(
        alerts=alerts,
        may_acknowledge=may_acknowledge,
        sound=sound,
        playbook=role == Role.FRONT_DESK and any(a.is_open for a in alerts),
    )
