"""Writes to the patient flow: check-in, walk-ins, and the moves of a queue entry.

Only the moves in TRANSITIONS are legal. A move is one conditional UPDATE (`... WHERE
status = <the status the officer saw>`), so when two officers act on the same entry at once
exactly one wins; the other gets a message saying what happened, and the queue stays
consistent. Every move writes a QueueEvent (the timestamps waits are measured from), an audit
event, and raises the clinic's flow version for live boards, all in one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.billing.services import visit_copay_charge
from frontdesk.clinic.models import Clinic, Provider
from frontdesk.desk.live import desk_changed
from frontdesk.flow import live
from frontdesk.flow.emergency import emergency_alert_raise, emergency_alerts_acknowledge_for_entry
from frontdesk.flow.forecast import clinic_forecasts
from frontdesk.flow.late import LateImpact, late_arrival_record
from frontdesk.flow.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    ConsentKind,
    FlowStatus,
    IncompleteRegistration,
    LateChoice,
    PatientConsent,
    Priority,
    Queue,
    QueueEntry,
    QueueEvent,
    TicketCounter,
)
from frontdesk.flow.selectors import already_checked_in
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient, Sex
from frontdesk.patients.services import DuplicateDecision, patient_register
from frontdesk.scheduling.models import Appointment, AppointmentStatus
from frontdesk.scheduling.services import (
    BookingRefusedError,
    appointment_fulfil,
    appointment_mark_checked_in,
)

# Which moves are legal. "Called" can go back to "waiting" (the patient did not answer).
TRANSITIONS: dict[str, frozenset[str]] = {
    FlowStatus.WAITING: frozenset({FlowStatus.CALLED, FlowStatus.LEFT}),
    FlowStatus.CALLED: frozenset({FlowStatus.IN_ROOM, FlowStatus.WAITING, FlowStatus.LEFT}),
    FlowStatus.IN_ROOM: frozenset({FlowStatus.WITH_PROVIDER, FlowStatus.DONE, FlowStatus.LEFT}),
    FlowStatus.WITH_PROVIDER: frozenset({FlowStatus.DONE}),
    FlowStatus.DONE: frozenset(),
    FlowStatus.LEFT: frozenset(),
}
WALK_IN_QUEUE_CODE = "W"
_CODES = "ABCDEFGHJKLMNPQRSTUVXYZ"  # no I, O (read as 1, 0) and no W (walk-ins)


class FlowRefusedError(Exception):
    """The move cannot be made; the message says why in the officer's words."""


def local_day(moment: dt.datetime, clinic: Clinic | int) -> dt.date:
    """The day `moment` falls on in `clinic`'s zone."""
    return moment.astimezone(clinic_zone(clinic)).date()


def _local_time(moment: dt.datetime, clinic: Clinic | int) -> str:
    return f"{moment.astimezone(clinic_zone(clinic)):%H:%M}"


def queue_for_provider(*, clinic: Clinic, provider: Provider) -> Queue:
    """The provider's queue, created with the next free letter the first time it is needed."""
    queue = Queue.objects.filter(clinic=clinic, provider=provider).first()
    if queue is not None:
        return queue
    taken = set(Queue.objects.filter(clinic=clinic).values_list("code", flat=True))
    code = next((c for c in _CODES if c not in taken), None)
    if code is None:
        code = next(f"{a}{b}" for a in _CODES for b in _CODES if f"{a}{b}" not in taken)
    try:
        with transaction.atomic():
            return Queue.objects.create(
                clinic=clinic, provider=provider, code=code, name=str(provider)
            )
    except IntegrityError:  # another desk created it (or took the letter) a moment ago
        return Queue.objects.get(clinic=clinic, provider=provider)


def walk_in_queue(clinic: Clinic) -> Queue:
    queue, _ = Queue.objects.get_or_create(
        clinic=clinic, code=WALK_IN_QUEUE_CODE, defaults={"name": "Walk-ins"}
    )
    return queue


def _next_ticket(queue: Queue, day: dt.date) -> tuple[int, str]:
    """The next number of `queue` today; the counter row is locked until the caller commits."""
    TicketCounter.objects.bulk_create([TicketCounter(queue=queue, day=day)], ignore_conflicts=True)
    counter = TicketCounter.objects.select_for_update().get(queue=queue, day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last, f"{queue.code}-{counter.last:03d}"


def _event(entry: QueueEntry, *, by: User | None, from_status: str, at: dt.datetime) -> None:
    QueueEvent.objects.create(
        entry=entry, at=at, from_status=from_status, to_status=entry.status, room=entry.room, by=by
    )


def _enqueue(
    *,
    context: AuditContext,
    user: User | None,
    clinic: Clinic,
    queue: Queue,
    patient: Patient,
    appointment: Appointment | None,
    priority: Priority,
    priority_reason: str,
    now: dt.datetime,
) -> QueueEntry:
    if priority != Priority.NORMAL and not priority_reason.strip():
        raise FlowRefusedError(f"Say why this patient is {priority.label.lower()}.")
    day = local_day(now, clinic)
    number, ticket = _next_ticket(queue, day)
    entry = QueueEntry(
        clinic=clinic,
        queue=queue,
        patient=patient,
        appointment=appointment,
        day=day,
        number=number,
        ticket=ticket,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        priority_reason=priority_reason.strip()[:200],
        status=FlowStatus.WAITING,
        checked_in_at=now,
        status_changed_at=now,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        if appointment is not None:
            raise FlowRefusedError(_already_checked_in(appointment)) from None
        # Another desk's walk-in of this patient was committed first.
        walked_in = QueueEntry.objects.filter(
            patient=patient, day=day, appointment__isnull=True, status__in=OPEN_STATUSES
        ).first()
        if walked_in is not None:
            raise FlowRefusedError(_already_in_queue(walked_in)) from None
        raise
    _event(entry, by=user, from_status="", at=now)
    if priority == Priority.EMERGENCY:
        # A clinician comes now: no wait is forecast or told, the clinical staff are alerted.
        emergency_alert_raise(context=context, user=user, entry=entry, now=now)
        forecast = None
    else:
        # The desk tells the patient the forecast at once, to compare with the real wait.
        forecast = clinic_forecasts(clinic_id=clinic.pk, day=day, now=now).get(queue.pk)
    if forecast is not None and entry.pk in forecast.waits:
        entry.told_wait_minutes = min(forecast.waits[entry.pk], 600)
        entry.told_at = now
        entry.save(update_fields=["told_wait_minutes", "told_at"])
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.QUEUE_ENTRY,
        object_id=entry.pk,
        detail={"ticket": ticket, "queue": queue.code, "priority": priority},
    )
    live.flow_changed(clinic.pk)
    return entry


def _already_checked_in(appointment: Appointment) -> str:
    entry = QueueEntry.objects.filter(appointment=appointment).first()
    if entry is None:
        return "This appointment is already checked in."
    return already_checked_in(entry)


@transaction.atomic
def appointment_check_in(
    *,
    context: AuditContext,
    user: User,
    appointment: Appointment,
    confirm_address: bool = False,
    consent_signed: bool = False,
    priority: Priority = Priority.NORMAL,
    priority_reason: str = "",
    late: LateImpact | None = None,
    now: dt.datetime | None = None,
) -> QueueEntry:
    """The patient of `appointment` is at the desk: the appointment is checked in (scheduling's
    status rules), anything fixed at the desk is recorded, and a ticket in the provider's queue
    is issued. `late` (the impact shown at the desk) records a late arrival seen with delay."""
    now = now or timezone.now()
    current = Appointment.objects.select_for_update().select_related("patient", "provider")
    appointment = current.get(pk=appointment.pk)
    # Serialised with walk-ins of the same patient (see walk_in_check_in).
    Patient.objects.select_for_update().filter(pk=appointment.patient_id).values_list("pk").first()
    if QueueEntry.objects.filter(appointment=appointment).exists():
        raise FlowRefusedError(_already_checked_in(appointment))
    if appointment.status == AppointmentStatus.CANCELLED:
        reason = f" ({appointment.cancel_reason})" if appointment.cancel_reason else ""
        raise FlowRefusedError(
            f"This appointment was cancelled{reason}; it cannot be checked in. Book a new "
            "time or add the patient as a walk-in."
        )
    if appointment.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.PENDING,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.CHECKED_IN,  # checked in elsewhere, not yet in a queue
    ):
        raise FlowRefusedError(
            f"This appointment is {appointment.get_status_display().lower()}; it cannot be "
            "checked in."
        )
    zone = clinic_zone(appointment.clinic_id)
    if appointment.start.astimezone(zone).date() != now.astimezone(zone).date():
        raise FlowRefusedError(
            f"This appointment is on {appointment.start.astimezone(zone):%a %b %-d}, not today."
        )
    clinic = appointment.patient.clinic
    if appointment.status != AppointmentStatus.CHECKED_IN:
        appointment_mark_checked_in(context=context, user=user, appointment=appointment)
    if late is not None:
        late_arrival_record(
            context=context,
            user=user,
            appointment=appointment,
            choice=LateChoice.SEE_WITH_DELAY,
            impact=late,
            now=now,
        )
    patient_facts_confirm(
        context=context,
        user=user,
        patient=appointment.patient,
        address=confirm_address,
        consent=consent_signed,
        now=now,
    )
    # The visit's co-pay is owed from check-in on, whether or not the patient pays now.
    visit_copay_charge(context=context, user=user, appointment=appointment, now=now)
    return _enqueue(
        context=context,
        user=user,
        clinic=clinic,
        queue=queue_for_provider(clinic=clinic, provider=appointment.provider),
        patient=appointment.patient,
        appointment=appointment,
        priority=priority,
        priority_reason=priority_reason,
        now=now,
    )


@transaction.atomic
def walk_in_check_in(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    queue: Queue | None = None,
    priority: Priority = Priority.NORMAL,
    priority_reason: str = "",
    now: dt.datetime | None = None,
) -> QueueEntry:
    """A patient without an appointment joins a queue (the walk-in queue unless one is given)."""
    now = now or timezone.now()
    clinic = patient.clinic
    if queue is not None and queue.clinic_id != clinic.pk:
        raise FlowRefusedError("That queue belongs to another clinic.")
    # The patient row is locked (appointment check-ins take it too), so two desks cannot both
    # see "not in a queue"; the partial unique index on open walk-ins backs this up.
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
    open_entry = _open_entry(patient, local_day(now, clinic))
    if open_entry is not None:
        raise FlowRefusedError(_already_in_queue(open_entry))
    return _enqueue(
        context=context,
        user=user,
        clinic=clinic,
        queue=queue or walk_in_queue(clinic),
        patient=patient,
        appointment=None,
        priority=priority,
        priority_reason=priority_reason,
        now=now,
    )


def _open_entry(patient: Patient, day: dt.date) -> QueueEntry | None:
    """The patient's entry still waiting, called, in a room or with a provider on `day`."""
    return QueueEntry.objects.filter(patient=patient, day=day, status__in=OPEN_STATUSES).first()


def _already_in_queue(entry: QueueEntry) -> str:
    return (
        f"This patient is already in the queue with ticket {entry.ticket} "
        f"({entry.get_status_display().lower()})."
    )


def patient_facts_confirm(
    *,
    context: AuditContext,
    user: User,
    patient: Patient,
    address: bool,
    consent: bool,
    now: dt.datetime,
) -> None:
    """Record what the officer checked with the patient at the desk."""
    if not (address or consent):
        return
    today = local_day(now, patient.clinic_id)
    if address:
        Patient.objects.filter(pk=patient.pk).update(address_confirmed_on=today, updated_at=now)
        patient.address_confirmed_on = today
    if consent:
        PatientConsent.objects.create(
            patient=patient,
            kind=ConsentKind.TREATMENT,
            signed_on=today,
            recorded_at=now,
            recorded_by=user,
        )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.PATIENT,
        object_id=patient.pk,
        detail={"address_confirmed": address, "consent_signed": consent},
    )


def _move_message(entry: QueueEntry, to: str) -> str:
    """Why a move is refused, in the officer's words."""
    label = FlowStatus(to).label.lower()
    when = _local_time(entry.status_changed_at, entry.clinic_id)
    if entry.status == FlowStatus.LEFT:
        return (
            f"{entry.ticket} left without being seen at {when}; "
            f"they cannot be {label}. Check them in again if they came back."
        )
    if entry.status == FlowStatus.DONE:
        return f"{entry.ticket} is done since {when}."
    return f"{entry.ticket} is {entry.get_status_display().lower()}; it cannot be {label} now."


@transaction.atomic
def queue_entry_move(
    *,
    context: AuditContext,
    user: User | None,
    entry: QueueEntry,
    to: FlowStatus,
    expected: str | None = None,
    room: str | None = None,
    now: dt.datetime | None = None,
) -> QueueEntry:
    """Move `entry` to `to`. `expected` is the status the officer saw; if the entry has moved
    since (another officer acted first), the move is refused and says what happened."""
    now = now or timezone.now()
    seen = expected or QueueEntry.objects.values_list("status", flat=True).get(pk=entry.pk)
    if seen not in TRANSITIONS:
        raise FlowRefusedError("That page is out of date; the board has been refreshed.")
    if to not in TRANSITIONS[seen]:
        entry.refresh_from_db()
        raise FlowRefusedError(_move_message(entry, to))
    changes: dict[str, object] = {"status": to, "status_changed_at": now}
    if room is not None:
        changes["room"] = room.strip()[:40]
    updated = QueueEntry.objects.filter(pk=entry.pk, status=seen).update(**changes)
    entry.refresh_from_db()
    if not updated:
        if entry.status == FlowStatus.LEFT or entry.status == FlowStatus.DONE:
            raise FlowRefusedError(_move_message(entry, to))
        last = entry.events.select_related("by").last()
        who = f" by {last.by.get_full_name() or last.by.username}" if last and last.by else ""
        raise FlowRefusedError(
            f"{entry.ticket} was just marked {entry.get_status_display().lower()}{who}; "
            "nothing was changed."
        )
    _event(entry, by=user, from_status=seen, at=now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[entry.patient_id],
        object_type=AuditObject.QUEUE_ENTRY,
        object_id=entry.pk,
        detail={"status": f"{seen} -> {to}", "room": entry.room},
    )
    if entry.priority == Priority.EMERGENCY:
        emergency_alerts_acknowledge_for_entry(context=context, user=user, entry=entry, now=now)
    live.flow_changed(entry.clinic_id)
    return entry


def queue_call_next(
    *, context: AuditContext, user: User | None, queue: Queue, room: str = ""
) -> QueueEntry:
    """Call the first waiting patient of `queue`: emergencies, then urgent, then in order of
    arrival. If another officer calls the same patient at the same moment, the next one is
    called instead."""
    for _ in range(20):
        candidate = (
            QueueEntry.objects.filter(queue=queue, status=FlowStatus.WAITING)
            .order_by("priority_rank", "checked_in_at", "pk")
            .first()
        )
        if candidate is None:
            raise FlowRefusedError(f"Nobody is waiting for {queue.name}.")
        try:
            return queue_entry_move(
                context=context,
                user=user,
                entry=candidate,
                to=FlowStatus.CALLED,
                expected=FlowStatus.WAITING,
                room=room,
            )
        except FlowRefusedError:
            continue  # someone called this one a moment ago; take the next
    raise FlowRefusedError("The queue is changing too fast; try again.")


@transaction.atomic
def queue_entry_tell_wait(
    *, context: AuditContext, user: User, entry: QueueEntry, minutes: int
) -> QueueEntry:
    """Store the wait the patient was told, to compare later with the wait they had."""
    if entry.priority == Priority.EMERGENCY:
        raise FlowRefusedError("An emergency is never told a wait: a clinician comes now.")
    if not 0 <= minutes <= 600:
        raise FlowRefusedError("Give the wait in minutes, between 0 and 600.")
    now = timezone.now()
    QueueEntry.objects.filter(pk=entry.pk).update(told_wait_minutes=minutes, told_at=now)
    entry.refresh_from_db()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[entry.patient_id],
        object_type=AuditObject.QUEUE_ENTRY,
        object_id=entry.pk,
        detail={"told_wait_minutes": minutes},
    )
    return entry


@transaction.atomic
def walk_in_register(
    *,
    context: AuditContext,
    user: User,
    clinic: Clinic,
    given_name: str,
    family_name: str,
    birth_date: dt.date,
    phone: str = "",
    queue: Queue | None = None,
    priority: Priority = Priority.NORMAL,
    priority_reason: str = "",
    not_a_duplicate_reason: str = "",
) -> QueueEntry:
    """Register a walk-in with the fewest fields, flag the record incomplete, and queue them.
    The registration's duplicate check applies: a likely existing patient raises
    DuplicateDecisionRequiredError unless `not_a_duplicate_reason` is given."""
    if priority != Priority.NORMAL and not priority_reason.strip():
        raise FlowRefusedError(f"Say why this patient is {priority.label.lower()}.")
    patient = patient_register(
        context=context,
        clinic=clinic,
        data={
            "given_name": given_name,
            "family_name": family_name,
            "birth_date": birth_date,
            "phone": phone,
            "sex": Sex.UNKNOWN,
        },
        decision=(
            DuplicateDecision(override_reason=not_a_duplicate_reason)
            if not_a_duplicate_reason.strip()
            else None
        ),
        address_confirmed=False,
    )
    IncompleteRegistration.objects.create(
        patient=patient, registered_at=timezone.now(), registered_by=user
    )
    return walk_in_check_in(
        context=context,
        user=user,
        patient=patient,
        queue=queue,
        priority=priority,
        priority_reason=priority_reason,
    )


@transaction.atomic
def appointment_check_out(
    *, context: AuditContext, user: User, appointment: Appointment
) -> Appointment:
    """The patient leaves after the visit: their queue entry is done (if it was not yet) and
    the appointment becomes fulfilled."""
    entry = QueueEntry.objects.filter(appointment=appointment).first()
    if entry is None:
        raise FlowRefusedError("This patient was never checked in; check them in first.")
    if entry.status == FlowStatus.LEFT:
        raise FlowRefusedError(_move_message(entry, FlowStatus.DONE))
    if entry.status in (FlowStatus.WAITING, FlowStatus.CALLED):
        raise FlowRefusedError(
            f"{entry.ticket} has not been seen yet ({entry.get_status_display().lower()})."
        )
    if entry.status != FlowStatus.DONE:
        queue_entry_move(
            context=context, user=user, entry=entry, to=FlowStatus.DONE, expected=entry.status
        )
    try:
        return appointment_fulfil(context=context, user=user, appointment=appointment)
    except BookingRefusedError as exc:
        raise FlowRefusedError(str(exc)) from None


@transaction.atomic
def incomplete_registration_complete(
    *, context: AuditContext, user: User, record: IncompleteRegistration
) -> None:
    """The desk has completed a walk-in's record (address, insurance, contacts)."""
    updated = IncompleteRegistration.objects.filter(pk=record.pk, completed_at=None).update(
        completed_at=timezone.now()
    )
    if updated:
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[record.patient_id],
            object_type=AuditObject.INCOMPLETE_REGISTRATION,
            object_id=record.pk,
            detail={"completed_by": user.username},
        )
        desk_changed(record.patient.clinic_id)
