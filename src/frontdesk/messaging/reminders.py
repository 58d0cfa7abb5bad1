"""Finding due reminders and queueing each exactly once in the outbox.

The guarantee rests on the database: `ReminderDelivery` has a unique constraint on
(appointment, rule, appointment start), and the row is inserted together with its outbox
message (messaging/outbox.py) in one transaction. Whoever inserts it queues it; a second worker,
a re-queued task or a restarted worker finds the row and queues nothing. The outbox then sends
it at most once per key, retries it while it still makes sense (the appointment is still
booked at that time, the patient still agrees to messages) and parks it with the reason when it
cannot. A moved appointment has a new start, so its reminders are due afresh for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.messaging.channels import consented_channels
from frontdesk.messaging.content import reminder_message
from frontdesk.messaging.models import (
    DEFAULT_REMINDER_HOURS,
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    ReminderDelivery,
    ReminderRule,
)
from frontdesk.messaging.outbox import NotRelevantError, OutboxKind, Outgoing, outbox_add
from frontdesk.scheduling.models import Appointment, AppointmentStatus

# Only appointments still expected to happen get reminders.
REMINDABLE = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)
# The outbox kind; a reminder's message key is "reminder:<delivery id>".
REMINDER_KIND = "reminder"


@dataclass(frozen=True)
class DueReminder:
    appointment_id: int
    rule_id: int
    appointment_start: dt.datetime


def _reminder_context(clinic_id: int) -> AuditContext:
    return dataclasses.replace(
        SYSTEM_CONTEXT, clinic_id=clinic_id, purpose="operations: appointment reminders"
    )


def reminder_rules_ensure_defaults() -> int:
    """Give each clinic with no rule rows at all the default rules; returns rules created.
    (A clinic that wants no reminders switches its rules off rather than deleting them.)"""
    bare = Clinic.objects.exclude(Exists(ReminderRule.objects.filter(clinic=OuterRef("pk"))))
    rules = [
        ReminderRule(clinic_id=clinic_id, hours_before=hours)
        for clinic_id in bare.values_list("pk", flat=True)
        for hours in DEFAULT_REMINDER_HOURS
    ]
    # ignore_conflicts: two workers may both see a bare clinic; the unique constraint decides.
    ReminderRule.objects.bulk_create(rules, ignore_conflicts=True)
    return len(rules)


class ReminderRulesRefusedError(ValueError):
    """The hours given for a clinic's reminders are not usable; the text says why."""


def parse_reminder_hours(text: str) -> list[int]:
    """ "72, 24" -> [72, 24]; whole hours from 1 to 720, each once, none longer than patient
    links stay valid (PATIENT_LINK_MAX_AGE)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ReminderRulesRefusedError("Give at least one number of hours, e.g. 72,24.")
    hours: list[int] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 24 * 30:
            raise ReminderRulesRefusedError(
                f"{part!r} is not a number of hours from 1 to 720 (30 days)."
            )
        if int(part) in hours:
            raise ReminderRulesRefusedError(f"{part} hours is given twice.")
        hours.append(int(part))
    _refuse_beyond_link_lifetime(hours)
    return sorted(hours, reverse=True)


def _refuse_beyond_link_lifetime(hours: list[int]) -> None:
    # A reminder's confirm-or-cancel link must still work on the day of the visit.
    lifetime = int(settings.PATIENT_LINK_MAX_AGE.total_seconds() // 3600)
    for value in hours:
        if value > lifetime:
            raise ReminderRulesRefusedError(
                f"{value} hours is further ahead than patient links stay valid ({lifetime} "
                "hours): the confirm and cancel links in that reminder would expire before the "
                "visit. Choose fewer hours, or raise PATIENT_LINK_MAX_AGE_HOURS."
            )


@transaction.atomic
def reminder_rules_set(*, clinic: Clinic, hours: list[int]) -> list[ReminderRule]:
    """Make exactly these reminders active for the clinic; other rules are switched off (kept,
    since past deliveries point at them). Hours beyond the patient-link lifetime are refused."""
    _refuse_beyond_link_lifetime(hours)
    for value in hours:
        ReminderRule.objects.update_or_create(
            clinic=clinic, hours_before=value, defaults={"is_active": True}
        )
    ReminderRule.objects.filter(clinic=clinic).exclude(hours_before__in=hours).update(
        is_active=False
    )
    return list(ReminderRule.objects.filter(clinic=clinic, is_active=True))


def _reminder_candidates(rules: list[ReminderRule], now: dt.datetime) -> set[int]:
    """Appointments inside some rule's window with no delivery for that rule at their start."""
    candidates: set[int] = set()
    for rule in rules:
        candidates.update(
            Appointment.objects.filter(
                clinic_id=rule.clinic_id,
                status__in=REMINDABLE,
                start__gt=now,
                start__lte=now + dt.timedelta(hours=rule.hours_before),
            )
            .exclude(
                Exists(
                    ReminderDelivery.objects.filter(
                        appointment=OuterRef("pk"), rule=rule, appointment_start=OuterRef("start")
                    )
                )
            )
            .values_list("pk", flat=True)
        )
    return candidates


def reminders_due(*, now: dt.datetime) -> tuple[list[DueReminder], list[DueReminder]]:
    """(due, superseded): reminders to send now, and earlier ones overtaken by a nearer one.

    An appointment booked two days ahead is past its 72-hour reminder already: only the nearest
    due rule is sent, the others are recorded as skipped. Each rule's query reads only
    appointments in its window that have no delivery for it yet (indexed by the constraint).
    """
    rules = list(ReminderRule.objects.filter(is_active=True).order_by("hours_before"))
    candidates = _reminder_candidates(rules, now)
    if not candidates:
        return [], []
    recorded = set(
        ReminderDelivery.objects.filter(appointment_id__in=candidates).values_list(
            "appointment_id", "rule_id", "appointment_start"
        )
    )
    rules_by_clinic: dict[int, list[ReminderRule]] = {}
    for rule in rules:
        rules_by_clinic.setdefault(rule.clinic_id, []).append(rule)
    due: list[DueReminder] = []
    superseded: list[DueReminder] = []
    appointments = Appointment.objects.filter(pk__in=candidates).values_list(
        "pk", "clinic_id", "start"
    )
    for pk, clinic_id, start in appointments.order_by("start", "pk"):
        reached = [
            rule
            for rule in rules_by_clinic.get(clinic_id, [])
            if start - dt.timedelta(hours=rule.hours_before) <= now
        ]
        if not reached:
            continue  # moved out of every window since it was listed: a later run sees it
        nearest, *earlier = reached  # ordered by hours_before: the nearest rule first
        if (pk, nearest.pk, start) not in recorded:
            due.append(DueReminder(pk, nearest.pk, start))
        superseded.extend(
            DueReminder(pk, r.pk, start) for r in earlier if (pk, r.pk, start) not in recorded
        )
    return due, superseded


def reminders_dispatch_due(*, now: dt.datetime | None = None) -> int:
    """The every-minute job: record superseded reminders as skipped and queue each due one in
    the outbox (the worker then sends it). Returns how many were recorded. Running it twice, or
    on two workers at once, is harmless: the delivery row is unique."""
    now = now or timezone.now()
    reminder_rules_ensure_defaults()
    due, superseded = reminders_due(now=now)
    if superseded:
        ReminderDelivery.objects.bulk_create(
            [
                ReminderDelivery(
                    appointment_id=item.appointment_id,
                    rule_id=item.rule_id,
                    appointment_start=item.appointment_start,
                    status=DeliveryStatus.SKIPPED,
                    error="A nearer reminder was due, so this earlier one was not sent.",
                    claimed_at=now,
                )
                for item in superseded
            ],
            ignore_conflicts=True,
        )
    recorded = 0
    for item in due:
        if reminder_claim(appointment_id=item.appointment_id, rule_id=item.rule_id, now=now):
            recorded += 1
    return recorded


def _skip_reason(appointment: Appointment, rule: ReminderRule, now: dt.datetime) -> str:
    if appointment.status not in REMINDABLE:
        return f"The appointment is {appointment.get_status_display().lower()}."
    if appointment.start <= now:
        return "The appointment had already started."
    if not rule.is_active:
        return "This reminder was switched off."
    if not consented_channels(appointment.patient):
        return "The patient has not agreed to email or text messages."
    return ""


def reminder_claim(
    *, appointment_id: int, rule_id: int, now: dt.datetime | None = None
) -> ReminderDelivery | None:
    """Insert the delivery row: `claimed`, with its outbox message in the same transaction,
    when the reminder should go out; `skipped` (with the reason) when not. None when another
    worker already holds it, or when the appointment moved so that this rule is not yet due
    for its new start. Not inside another transaction: each reminder commits on its own."""
    now = now or timezone.now()
    try:
        with transaction.atomic(durable=True):
            appointment = (
                Appointment.objects.select_related("patient", "clinic", "schedule__location")
                .filter(pk=appointment_id)
                .first()
            )
            rule = ReminderRule.objects.filter(pk=rule_id).first()
            if appointment is None or rule is None:
                return None
            not_yet_due = appointment.start - dt.timedelta(hours=rule.hours_before) > now
            if appointment.status in REMINDABLE and not_yet_due:
                # Moved later since it was found due: the rule fires for the new time, later.
                return None
            reason = _skip_reason(appointment, rule, now)
            delivery = ReminderDelivery(
                appointment=appointment,
                rule=rule,
                appointment_start=appointment.start,
                status=DeliveryStatus.SKIPPED if reason else DeliveryStatus.CLAIMED,
                error=reason,
                claimed_at=now,
            )
            delivery.save(force_insert=True)
            if delivery.status == DeliveryStatus.CLAIMED:
                outbox_add(
                    kind=REMINDER_KIND, object_id=delivery.pk, patient=appointment.patient, now=now
                )
            audit_record(
                context=_reminder_context(appointment.clinic_id),
                action=AuditAction.SYSTEM,
                patient_ids=[appointment.patient_id],
                object_type=AuditObject.REMINDER,
                object_id=delivery.pk,
                detail={"status": delivery.status, "hours_before": rule.hours_before},
            )
    except IntegrityError:
        # The unique constraint on (appointment, rule, start): someone else has this reminder.
        return None
    return delivery


# --- The reminder as an outbox message -----------------------------------------------------------


def _reminder_prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    """The reminder as the appointment is now; not sent once it stopped making sense."""
    delivery = (
        ReminderDelivery.objects.select_related(
            "rule",
            "appointment__patient",
            "appointment__clinic",
            "appointment__schedule__location",
        )
        .filter(pk=message.object_id)
        .first()
    )
    if delivery is None:  # the appointment was deleted, and its deliveries with it
        raise NotRelevantError("The appointment no longer exists.")
    appointment = delivery.appointment
    reason = _skip_reason(appointment, delivery.rule, now)
    if not reason and appointment.start != delivery.appointment_start:
        reason = "The appointment has moved; its new time gets reminders of its own."
    if reason:
        raise NotRelevantError(reason)
    content = reminder_message(appointment, now=now)
    return Outgoing(
        patient=appointment.patient,
        subject=content.subject,
        text=content.text,
        html=content.html,
        sms_text=content.sms_text,
        attachments=content.attachments,
        context=_reminder_context(appointment.clinic_id),
    )


# The delivery row follows its message: what the desk and reports read about a reminder.
_DELIVERY_STATUS = {
    OutboxStatus.SENT: DeliveryStatus.SENT,
    OutboxStatus.PARKED: DeliveryStatus.FAILED,
    OutboxStatus.CANCELLED: DeliveryStatus.SKIPPED,
    OutboxStatus.PENDING: DeliveryStatus.CLAIMED,
}


def _reminder_status(message: OutboxMessage) -> None:
    status = _DELIVERY_STATUS.get(OutboxStatus(message.status))
    if status is None:
        return
    sent = status == DeliveryStatus.SENT
    error = "" if status in (DeliveryStatus.SENT, DeliveryStatus.CLAIMED) else message.last_error
    ReminderDelivery.objects.filter(pk=message.object_id).exclude(
        status=DeliveryStatus.SENT
    ).update(
        status=status,
        channel=message.channel if sent else "",
        sent_at=message.sent_at if sent else None,
        error=error,
    )
    if status in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
        audit_record(
            context=_reminder_context(message.clinic_id),
            action=AuditAction.SYSTEM,
            patient_ids=[message.patient_id],
            object_type=AuditObject.REMINDER,
            object_id=message.object_id,
            detail={"status": status, "error": error},
        )


REMINDER = OutboxKind(
    name=REMINDER_KIND,
    label="Appointment reminder",
    prepare=_reminder_prepare,
    on_status=_reminder_status,
)
