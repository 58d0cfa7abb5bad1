"""Staff's changes to the waitlist: add a patient, change what an entry waits for, remove it, or
book a waiting patient into a free time by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.waitlist.notices import outbox_wake
from frontdesk.scheduling.waitlist.offers import waitlist_time_freed
from frontdesk.scheduling.waitlist.steps import (
    entry_close,
    entry_take,
    offer_close,
    retrying_deadlocks,
)
from frontdesk.scheduling.waitlist.terms import HELD, EntryRequest, offer_fits_entry


class WaitlistError(Exception):
    """The waitlist change cannot be made; the message says why in plain words."""


def waitlist_entry_add(
    *, context: AuditContext, user: User, patient: Patient, request: EntryRequest
) -> WaitlistEntry:
    """Put a patient on the waitlist (one open wait per patient and visit type)."""
    if request.latest_date < request.earliest_date:
        raise WaitlistError("The last day comes before the first day.")
    current = request.current_appointment
    if current is not None and (current.patient_id != patient.pk or current.status not in HELD):
        raise WaitlistError("Only a booked appointment of this patient can be kept and moved.")
    entry = WaitlistEntry(
        clinic_id=patient.clinic_id,
        patient=patient,
        appointment_type=request.appointment_type,
        location=request.location,
        earliest_date=request.earliest_date,
        latest_date=request.latest_date,
        weekdays="".join(sorted(set(request.weekdays))),
        time_of_day=request.time_of_day,
        priority=request.priority,
        note=request.note.strip(),
        current_appointment=current,
        created_at=timezone.now(),
        created_by=user,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
            entry.providers.set(list(request.providers))
            audit_record(
                context=context,
                action=AuditAction.CREATE,
                patient_ids=[patient.pk],
                object_type=AuditObject.WAITLIST_ENTRY,
                object_id=entry.pk,
                detail={"type": request.appointment_type.pk, "priority": request.priority},
            )
    except IntegrityError:
        raise WaitlistError(
            f"{patient.given_name} {patient.family_name} is already waiting for a "
            f"{request.appointment_type.name}. Change or remove that entry instead."
        ) from None
    return entry


_CLOSED_WORDS = {
    WaitlistStatus.BOOKED: "has already been booked from the waitlist",
    WaitlistStatus.REMOVED: "has been removed from the waitlist",
}


def waitlist_entry_closed_message(entry: WaitlistEntry) -> str:
    """Why a booked or removed entry cannot be changed, in the desk's words."""
    words = _CLOSED_WORDS.get(WaitlistStatus(entry.status), "is no longer waiting")
    return (
        f"This patient {words}, so the entry cannot be changed. To wait again, put them on "
        "the waitlist from their chart."
    )


def waitlist_entry_change(
    *, context: AuditContext, user: User, entry: WaitlistEntry, request: EntryRequest
) -> list[WaitlistOffer]:
    """Change what an open entry waits for (the booking it keeps stays as it is). Offers out
    for it that no longer match the new terms are withdrawn as a removal withdraws them (closed
    as withdrawn by the clinic, their times offered to the next patients); matching offers stay
    open.
    Returns the withdrawn offers."""
    if request.latest_date < request.earliest_date:
        raise WaitlistError("The last day comes before the first day.")
    withdrawn = retrying_deadlocks(
        lambda: _change(context=context, user=user, entry=entry, request=request)
    )
    for offer in withdrawn:
        waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)
    return withdrawn


# What an edit can change, compared before and after for the audit trail.
_CHANGEABLE = (
    "appointment_type_id",
    "location_id",
    "earliest_date",
    "latest_date",
    "weekdays",
    "time_of_day",
    "priority",
    "note",
)


def _offers_made_meanwhile(entry_id: int, seen: Sequence[WaitlistOffer]) -> list[WaitlistOffer]:
    """Open offers of the entry made after its offers were locked and before the entry was:
    an offering of freed time that held the entry's lock and has just committed. Taken without
    waiting (SKIP LOCKED), since the entry is locked now: an offer locked by someone else is
    being answered, and once this commits its acceptance finds the entry closed or the offer
    no longer fitting it (and books nothing), or its decline closes it."""
    return list(
        WaitlistOffer.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("schedule")
        .filter(entry_id=entry_id, status=WaitlistOfferStatus.OFFERED)
        .exclude(pk__in=[o.pk for o in seen])
        .order_by("pk")
    )


@transaction.atomic
def _change(
    *, context: AuditContext, user: User, entry: WaitlistEntry, request: EntryRequest
) -> list[WaitlistOffer]:
    # Offers first, then the entry, in the order `_remove` and an acceptance take them.
    open_offers = list(
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("schedule")
        .filter(entry_id=entry.pk, status=WaitlistOfferStatus.OFFERED)
        .order_by("pk")
    )
    locked = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment_type", "current_appointment")
        .get(pk=entry.pk)
    )
    if locked.status != WaitlistStatus.WAITING:
        raise WaitlistError(waitlist_entry_closed_message(locked))
    open_offers += _offers_made_meanwhile(entry.pk, open_offers)
    current = locked.current_appointment
    if (
        current is not None
        and current.status in HELD
        and request.appointment_type.pk != current.appointment_type_id
    ):
        raise WaitlistError(
            "To move the booked appointment earlier, wait for the same type of visit."
        )
    before = {name: getattr(locked, name) for name in _CHANGEABLE}
    providers_before = set(locked.providers.values_list("pk", flat=True))
    old_type_id = locked.appointment_type_id
    locked.appointment_type = request.appointment_type
    locked.location = request.location
    locked.earliest_date = request.earliest_date
    locked.latest_date = request.latest_date
    locked.weekdays = "".join(sorted(set(request.weekdays)))
    locked.time_of_day = request.time_of_day
    locked.priority = request.priority
    locked.note = request.note.strip()
    provider_ids = {p.pk for p in request.providers}
    changed = [
        name.removesuffix("_id") for name in _CHANGEABLE if getattr(locked, name) != before[name]
    ]
    if provider_ids != providers_before:
        changed.append("providers")
    now = timezone.now()
    withdrawn: list[WaitlistOffer] = []
    try:
        with transaction.atomic():
            locked.save(update_fields=[name.removesuffix("_id") for name in _CHANGEABLE])
            locked.providers.set(list(request.providers))
            for offer in open_offers:
                if not offer_fits_entry(
                    offer, locked, offered_type_id=old_type_id, provider_ids=provider_ids
                ):
                    offer_close(offer, WaitlistOfferStatus.WITHDRAWN, now)
                    withdrawn.append(offer)
            audit_record(
                context=context,
                action=AuditAction.UPDATE,
                patient_ids=[locked.patient_id],
                object_type=AuditObject.WAITLIST_ENTRY,
                object_id=locked.pk,
                detail={
                    "event": "waitlist entry changed",
                    "changed": changed,
                    "withdrawn": [o.pk for o in withdrawn],
                    "by": user.username,
                },
            )
    except IntegrityError:
        patient = locked.patient
        raise WaitlistError(
            f"{patient.given_name} {patient.family_name} is already waiting for a "
            f"{request.appointment_type.name}. Change or remove that entry instead."
        ) from None
    return withdrawn


def waitlist_entry_remove(*, context: AuditContext, user: User, entry: WaitlistEntry) -> None:
    """Take a patient off the waitlist; their open offers close as withdrawn by the clinic (the
    patient did not decline them) and those times go to the next patients."""
    closed = retrying_deadlocks(lambda: _remove(context=context, user=user, entry=entry))
    for offer in closed:
        waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)


@transaction.atomic
def _remove(*, context: AuditContext, user: User, entry: WaitlistEntry) -> list[WaitlistOffer]:
    # Offers first, then the entry: the order an acceptance takes them (`offers._lock_offer`), so a
    # removal and an acceptance wait on each other instead of deadlocking. An offer accepted
    # meanwhile drops out of the filter once its lock is released.
    open_offers = list(
        WaitlistOffer.objects.select_for_update()
        .filter(entry_id=entry.pk, status=WaitlistOfferStatus.OFFERED)
        .order_by("pk")
    )
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status != WaitlistStatus.WAITING:
        raise WaitlistError("This patient is no longer waiting.")
    open_offers += _offers_made_meanwhile(entry.pk, open_offers)
    now = timezone.now()
    locked.status = WaitlistStatus.REMOVED
    locked.closed_at = now
    locked.save(update_fields=["status", "closed_at"])
    for offer in open_offers:
        offer_close(offer, WaitlistOfferStatus.WITHDRAWN, now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[locked.patient_id],
        object_type=AuditObject.WAITLIST_ENTRY,
        object_id=locked.pk,
        detail={
            "event": "removed from the waitlist",
            "withdrawn": [o.pk for o in open_offers],
            "by": user.username,
        },
    )
    return open_offers


def waitlist_entry_book(
    *,
    context: AuditContext,
    user: User,
    entry: WaitlistEntry,
    schedule: Schedule,
    start: dt.datetime,
    confirmed: bool = False,
) -> Appointment:
    """Staff fill a free time by hand with a waitlisted patient: booked (or their booking
    moved) under the same guarantee as any booking. A time offered to other waiting patients
    is refused with `services.OfferedTimeError` unless the officer `confirmed` going ahead;
    then those open offers become gone and the patients are told."""
    appointment, gone = retrying_deadlocks(
        lambda: _book_by_staff(
            context=context,
            user=user,
            entry=entry,
            schedule=schedule,
            start=start,
            confirmed=confirmed,
        )
    )
    outbox_wake(gone)
    return appointment


@transaction.atomic
def _book_by_staff(
    *,
    context: AuditContext,
    user: User,
    entry: WaitlistEntry,
    schedule: Schedule,
    start: dt.datetime,
    confirmed: bool,
) -> tuple[Appointment, list[WaitlistOffer]]:
    now = timezone.now()
    locked = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment_type", "current_appointment")
        .get(pk=entry.pk)
    )
    if locked.status != WaitlistStatus.WAITING:
        raise WaitlistError("This patient is no longer waiting.")
    # A restricted record needs a stated reason (break the glass) like any other booking.
    access_patient(user, locked.patient_id)
    appointment = entry_take(
        context=context,
        user=user,
        entry=locked,
        schedule=schedule,
        start=start,
        offers=services.OpenOffers.LEAVE if confirmed else services.OpenOffers.REFUSE,
    )
    gone = entry_close(locked, appointment, now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[locked.patient_id, *(o.entry.patient_id for o in gone)],
        object_type=AuditObject.WAITLIST_ENTRY,
        object_id=locked.pk,
        detail={
            "event": "booked from the waitlist by staff",
            "appointment": appointment.pk,
            "gone": [o.pk for o in gone],
        },
    )
    return appointment, gone
