"""Writes to the schedule: book, reschedule, cancel, confirm, no-show, series.

Never two patients in one slot by accident: the database refuses an overlapping active
appointment (scheduling/constraints.py) and every write here runs in one transaction that
first asks `availability.slot_is_bookable` for the officer-facing reason. The loser of a race
gets SlotTakenError (the view offers the next free times), never an error page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.desk.live import desk_changed
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.scheduling import availability, constraints
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    CancelledBy,
    Schedule,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from frontdesk.scheduling.signals import appointment_time_freed

# PostgreSQL can deadlock two exclusion-constraint inserts under contention (SQLSTATE 40P01);
# the transaction is simply tried again.
DEADLOCK_RETRIES = 3


class BookingRefusedError(Exception):
    """The booking cannot be made; the message says why in the officer's words."""


class SlotTakenError(BookingRefusedError):
    """Someone else took that time a moment ago."""

    def __init__(self) -> None:
        super().__init__("That time was just taken. Here are the next free times.")


class OfferedTimeError(BookingRefusedError):
    """The time is offered to patients on the waitlist; booking it would withdraw the offers.
    Nothing was booked: the officer may go ahead (`OpenOffers.WITHDRAW`) or choose another."""

    def __init__(self, offers: list[WaitlistOffer], zone: dt.tzinfo) -> None:
        self.offers = offers
        until = max(o.expires_at for o in offers).astimezone(zone)
        if len(offers) == 1:
            words = "to a patient on the waitlist", "that offer"
        else:
            words = f"to {len(offers)} patients on the waitlist", "those offers"
        super().__init__(
            f"This time is offered {words[0]} until {until:%H:%M}; booking it withdraws {words[1]}."
        )


class OpenOffers(StrEnum):
    """What a booking does with open waitlist offers of the time it takes."""

    REFUSE = "refuse"  # book nothing and say so (OfferedTimeError): the officer decides
    WITHDRAW = "withdraw"  # the officer went ahead: withdrawn by the clinic, in this transaction
    LEAVE = "leave"  # the waitlist's own booking, which closes them itself


# Offers are looked for this far around a booking: their visit type's buffers count too, and
# no buffer is anywhere near a day long.
_OFFER_REACH = dt.timedelta(days=1)


@dataclass(frozen=True)
class VisitTimes:
    start: dt.datetime
    end: dt.datetime
    busy_start: dt.datetime
    busy_end: dt.datetime


def visit_times(appointment_type: AppointmentType, start: dt.datetime) -> VisitTimes:
    end = start + dt.timedelta(minutes=appointment_type.duration_minutes)
    return VisitTimes(
        start=start,
        end=end,
        busy_start=start - dt.timedelta(minutes=appointment_type.buffer_before_minutes),
        busy_end=end + dt.timedelta(minutes=appointment_type.buffer_after_minutes),
    )


def _is_double_booking(exc: Exception) -> bool:
    return constraints.NAME in str(exc)


def _is_deadlock(exc: Exception) -> bool:
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) == "40P01"


def _provider_lock(provider_id: int) -> None:
    """Take the provider's row lock for the rest of the transaction (PostgreSQL; SQLite's
    IMMEDIATE transaction already serialises writers).

    Two bookings racing for overlapping times of one provider each insert their row, then each
    waits on the other's row while checking the exclusion constraint: a deadlock that
    PostgreSQL breaks only after `deadlock_timeout` (1 s), often several times in a row on a
    hot slot. Queued on the provider instead, the second booking reads the first one's
    committed appointment and is refused in words. The constraint still decides; this only
    orders the writers. Set-up locks the same row while checking weekly hours."""
    list(Provider.objects.select_for_update().filter(pk=provider_id).values_list("pk"))


def _offers_in_the_way(
    *,
    provider_id: int,
    times: VisitTimes,
    now: dt.datetime,
    lock: bool,
) -> list[WaitlistOffer]:
    """Open, unexpired offers of the provider whose visit, with its type's buffers, overlaps
    the booking's busy time: a patient accepting one would be refused by the constraint.

    `lock`: each offer's row lock, without waiting (SKIP LOCKED). A locked offer is being
    answered right now: an acceptance holds its offer and then queues on the provider's row,
    which this booking holds, so waiting here would deadlock; once this booking commits, that
    acceptance is refused by the constraint and closes its own offer as gone."""
    found = WaitlistOffer.objects.filter(
        provider_id=provider_id,
        status=WaitlistOfferStatus.OFFERED,
        expires_at__gt=now,
        start__lt=times.busy_end + _OFFER_REACH,
        end__gt=times.busy_start - _OFFER_REACH,
    ).select_related("entry__appointment_type")
    if lock:
        found = found.select_for_update(of=("self",), skip_locked=True)
    offers = []
    for offer in found.order_by("pk"):
        kind = offer.entry.appointment_type
        offer_busy_start = offer.start - dt.timedelta(minutes=kind.buffer_before_minutes)
        offer_busy_end = offer.end + dt.timedelta(minutes=kind.buffer_after_minutes)
        if offer_busy_start < times.busy_end and offer_busy_end > times.busy_start:
            offers.append(offer)
    return offers


def _offers_settle(
    *,
    context: AuditContext,
    offers: OpenOffers,
    provider_id: int,
    times: VisitTimes,
    now: dt.datetime,
    overbook: bool,
) -> None:
    """Refuse, or withdraw the open offers of the time being booked (see `OpenOffers`)."""
    if offers == OpenOffers.LEAVE:
        return
    if offers == OpenOffers.REFUSE:
        found = _offers_in_the_way(provider_id=provider_id, times=times, now=now, lock=False)
        if found:
            raise OfferedTimeError(found, clinic_zone(found[0].entry.clinic_id))
        return
    withdrawn = _offers_in_the_way(provider_id=provider_id, times=times, now=now, lock=True)
    if not withdrawn:
        return
    for offer in withdrawn:
        offer.status = WaitlistOfferStatus.WITHDRAWN
        offer.responded_at = now
        offer.withdrawn_for_booking = True
        offer.save(update_fields=["status", "responded_at", "withdrawn_for_booking"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=sorted({o.entry.patient_id for o in withdrawn}),
        object_type=AuditObject.WAITLIST_OFFER,
        detail={
            "event": "offers withdrawn: the time was booked by hand",
            "offers": [o.pk for o in withdrawn],
            "start": times.start.isoformat(),
        },
    )
    if not overbook:
        # Whatever part of an offered time this booking leaves free goes to the next patients,
        # as after any withdrawal (an overbooking leaves the time as free as it was).
        for offer in withdrawn:
            _offer_freed_time(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)


def _history(
    appointment: Appointment,
    *,
    by: User | None,
    from_status: str,
    reason: str = "",
    from_start: dt.datetime | None = None,
) -> None:
    AppointmentHistory.objects.create(
        appointment=appointment,
        at=timezone.now(),
        by=by,
        from_status=from_status,
        to_status=appointment.status,
        from_start=from_start,
        to_start=appointment.start,
        reason=reason,
    )
    # Every change of an appointment may open or close desk work (one to confirm).
    desk_changed(appointment.clinic_id)


def _overbook_check(
    *, user: User, schedule: Schedule, times: VisitTimes, reason: str, now: dt.datetime
) -> None:
    if not role_may(user.role, Action.APPOINTMENT_OVERBOOK):
        raise BookingRefusedError("Only a supervisor can overbook. Ask one, or pick a free time.")
    if not reason.strip():
        raise BookingRefusedError("Say why this patient must be squeezed in.")
    local_day = times.start.astimezone(clinic_zone(schedule.clinic_id)).date()
    sessions = availability.template_sessions(
        schedule=schedule, day_from=local_day, day_to=local_day
    )
    session = next((s for s in sessions if s.start <= times.start and times.end <= s.end), None)
    if session is None:
        raise BookingRefusedError("Overbooking is only possible inside the provider's hours.")
    already = Appointment.objects.filter(
        schedule=schedule,
        is_overbook=True,
        status__in=ACTIVE_STATUSES,
        start__gte=session.start,
        start__lt=session.end,
    ).count()
    if already >= session.template.overbook_cap:
        raise BookingRefusedError(
            f"This session already has {already} overbooked patient(s), its limit."
        )


def appointment_book(
    *,
    context: AuditContext,
    user: User | None,
    patient: Patient,
    schedule: Schedule,
    appointment_type: AppointmentType,
    start: dt.datetime,
    overbook_reason: str = "",
    reason: str = "",
    note: str = "",
    series_id: int | None = None,
    offers: OpenOffers = OpenOffers.REFUSE,
) -> Appointment:
    """Book `patient` with the schedule's provider at `start` (aware). `user` is None when the
    patient books through a signed link (a waitlist offer); such a booking never overbooks.
    `reason` (why the patient comes) and `note` stay on staff pages only.
    A time offered to waiting patients is refused with OfferedTimeError unless `offers` says
    what to do with their offers."""
    nested = transaction.get_connection().in_atomic_block
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _book(
                nested=nested,
                context=context,
                user=user,
                patient=patient,
                schedule=schedule,
                appointment_type=appointment_type,
                start=start,
                overbook_reason=overbook_reason,
                reason=reason,
                note=note,
                series_id=series_id,
                offers=offers,
            )
        except OperationalError as exc:
            if not _is_deadlock(exc) or attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@transaction.atomic
def _book(
    *,
    nested: bool,
    context: AuditContext,
    user: User | None,
    patient: Patient,
    schedule: Schedule,
    appointment_type: AppointmentType,
    start: dt.datetime,
    overbook_reason: str,
    reason: str,
    note: str,
    series_id: int | None,
    offers: OpenOffers,
) -> Appointment:
    if timezone.is_naive(start):
        raise BookingRefusedError("The time has no time zone; pick it from the calendar.")
    if patient.clinic_id != schedule.clinic_id or not patient.is_active:
        raise BookingRefusedError("This patient cannot be booked here.")
    now = timezone.now()
    times = visit_times(appointment_type, start)
    is_overbook = bool(overbook_reason)
    if is_overbook and user is None:
        raise BookingRefusedError("Only a supervisor can overbook.")
    _provider_lock(schedule.provider_id)
    if is_overbook and user is not None:
        _overbook_check(user=user, schedule=schedule, times=times, reason=overbook_reason, now=now)
    else:
        problem = availability.slot_is_bookable(
            appointment_type=appointment_type, schedule=schedule, start=start, now=now
        )
        if problem is not None:
            raise BookingRefusedError(problem)
    _offers_settle(
        context=context,
        offers=offers,
        provider_id=schedule.provider_id,
        times=times,
        now=now,
        overbook=is_overbook,
    )
    appointment = Appointment(
        clinic_id=schedule.clinic_id,
        patient=patient,
        schedule=schedule,
        provider_id=schedule.provider_id,
        appointment_type=appointment_type,
        start=times.start,
        end=times.end,
        busy_start=times.busy_start,
        busy_end=times.busy_end,
        status=AppointmentStatus.BOOKED,
        is_overbook=is_overbook,
        overbook_reason=overbook_reason.strip(),
        reason=reason.strip(),
        note=note.strip(),
        series_id=series_id,
        created_at=now,
        updated_at=now,
    )
    try:
        # A savepoint only when a caller's transaction goes on after a refusal (a series books
        # its other visits); a booking of its own is rolled back whole.
        with transaction.atomic(savepoint=nested):
            appointment.save(force_insert=True)
    except IntegrityError as exc:
        if _is_double_booking(exc):
            raise SlotTakenError from None
        raise
    _history(appointment, by=user, from_status="", reason=appointment.overbook_reason)
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.APPOINTMENT,
        object_id=appointment.pk,
        detail={"start": start.isoformat(), "overbook": is_overbook},
    )
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    context: AuditContext,
    user: User | None,
    appointment: Appointment,
    schedule: Schedule,
    start: dt.datetime,
    reason: str = "",
    offers: OpenOffers = OpenOffers.REFUSE,
) -> Appointment:
    """Move an appointment in one statement: the new time is taken in the same UPDATE that
    gives up the old one, so the patient never holds neither (and never both). A time offered
    to waiting patients is handled as `appointment_book` handles it."""
    now = timezone.now()
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.PENDING):
        raise BookingRefusedError(
            f"A {current.get_status_display().lower()} appointment cannot be moved."
        )
    _provider_lock(schedule.provider_id)
    problem = availability.slot_is_bookable(
        appointment_type=current.appointment_type,
        schedule=schedule,
        start=start,
        now=now,
        ignore_appointment_id=current.pk,
    )
    if problem is not None:
        raise BookingRefusedError(problem)
    old_start, old_end, old_schedule_id = current.start, current.end, current.schedule_id
    times = visit_times(current.appointment_type, start)
    _offers_settle(
        context=context,
        offers=offers,
        provider_id=schedule.provider_id,
        times=times,
        now=now,
        overbook=current.is_overbook,
    )
    current.schedule = schedule
    current.provider_id = schedule.provider_id
    current.start, current.end = times.start, times.end
    current.busy_start, current.busy_end = times.busy_start, times.busy_end
    current.confirmed_at = None
    current.updated_at = timezone.now()
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError as exc:
        if _is_double_booking(exc):
            raise SlotTakenError from None
        raise
    _history(current, by=user, from_status=current.status, reason=reason, from_start=old_start)
    _offer_freed_time(schedule_id=old_schedule_id, start=old_start, end=old_end)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[current.patient_id],
        object_type=AuditObject.APPOINTMENT,
        object_id=current.pk,
        detail={"rescheduled_from": old_start.isoformat(), "to": start.isoformat()},
    )
    return current


def _offer_freed_time(*, schedule_id: int, start: dt.datetime, end: dt.datetime) -> None:
    """Once the change commits, say the time is free (`signals.appointment_time_freed`): the
    waitlist offers it (scheduling/waitlist/offers.py). A signal, because the waitlist books
    through this module and so cannot be imported by it. `robust`: a message that cannot be
    sent never undoes or fails the cancellation itself."""
    transaction.on_commit(
        lambda: appointment_time_freed.send(
            sender=Appointment, schedule_id=schedule_id, start=start, end=end
        ),
        robust=True,
    )


def _set_status(
    *,
    context: AuditContext,
    user: User | None,
    appointment: Appointment,
    allowed_from: tuple[str, ...],
    to: AppointmentStatus,
    reason: str = "",
    **fields: object,
) -> Appointment:
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if current.status not in allowed_from:
        raise BookingRefusedError(
            f"This appointment is {current.get_status_display().lower()}; it cannot be "
            f"marked {to.label.lower()}."
        )
    before = current.status
    current.status = to
    for name, value in fields.items():
        setattr(current, name, value)
    current.updated_at = timezone.now()
    current.save()
    _history(current, by=user, from_status=before, reason=reason)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[current.patient_id],
        object_type=AuditObject.APPOINTMENT,
        object_id=current.pk,
        detail={"status": f"{before} -> {to}", "reason": reason},
    )
    return current


@transaction.atomic
def appointment_cancel(
    *,
    context: AuditContext,
    user: User | None,
    appointment: Appointment,
    cancelled_by: CancelledBy,
    reason: str,
) -> Appointment:
    """Cancel; a cancellation within LATE_CANCELLATION_HOURS of the start is flagged late. The
    freed time is offered to the waitlist once the cancellation commits."""
    if not reason.strip():
        raise BookingRefusedError("Say why the appointment is cancelled.")
    late = appointment.start - timezone.now() < settings.LATE_CANCELLATION_WINDOW
    cancelled = _set_status(
        context=context,
        user=user,
        appointment=appointment,
        allowed_from=(
            AppointmentStatus.BOOKED,
            AppointmentStatus.PENDING,
            AppointmentStatus.PROPOSED,
        ),
        to=AppointmentStatus.CANCELLED,
        reason=reason.strip(),
        cancel_reason=reason.strip(),
        cancelled_by=cancelled_by,
        late_cancellation=late,
    )
    _offer_freed_time(schedule_id=cancelled.schedule_id, start=cancelled.start, end=cancelled.end)
    return cancelled


@transaction.atomic
def appointment_confirm(
    *, context: AuditContext, user: User | None, appointment: Appointment
) -> Appointment:
    return _set_status(
        context=context,
        user=user,
        appointment=appointment,
        allowed_from=(AppointmentStatus.BOOKED, AppointmentStatus.PENDING),
        to=AppointmentStatus.BOOKED,
        reason="confirmed",
        confirmed_at=timezone.now(),
    )


@transaction.atomic
def appointment_no_show(
    *, context: AuditContext, user: User | None, appointment: Appointment, reason: str = ""
) -> Appointment:
    return _set_status(
        context=context,
        user=user,
        appointment=appointment,
        allowed_from=(AppointmentStatus.BOOKED, AppointmentStatus.PENDING),
        to=AppointmentStatus.NOSHOW,
        reason=reason or "did not arrive",
    )


@transaction.atomic
def appointment_mark_checked_in(
    *, context: AuditContext, user: User | None, appointment: Appointment
) -> Appointment:
    """The patient is at the desk: a booked (or already arrived) appointment is checked in."""
    return _set_status(
        context=context,
        user=user,
        appointment=appointment,
        allowed_from=(
            AppointmentStatus.BOOKED,
            AppointmentStatus.PENDING,
            AppointmentStatus.ARRIVED,
        ),
        to=AppointmentStatus.CHECKED_IN,
        reason="checked in at the desk",
    )


@transaction.atomic
def appointment_fulfil(
    *, context: AuditContext, user: User | None, appointment: Appointment
) -> Appointment:
    """The visit took place: a checked-in (or arrived) appointment is fulfilled at check-out."""
    return _set_status(
        context=context,
        user=user,
        appointment=appointment,
        allowed_from=(AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN),
        to=AppointmentStatus.FULFILLED,
        reason="checked out",
    )


def appointments_mark_no_shows(*, context: AuditContext, now: dt.datetime) -> int:
    """Booked appointments that ended NO_SHOW_AFTER ago with no arrival become no-shows."""
    overdue = Appointment.objects.filter(
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.PENDING),
        end__lte=now - settings.NO_SHOW_AFTER,
    ).values_list("pk", flat=True)
    marked = 0
    for pk in list(overdue):
        with transaction.atomic():
            try:
                appointment_no_show(
                    context=context,
                    user=None,
                    appointment=Appointment(pk=pk),
                    reason="no arrival recorded",
                )
            except BookingRefusedError:
                continue  # it arrived or was cancelled meanwhile
            marked += 1
    return marked
