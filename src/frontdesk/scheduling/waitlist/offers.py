"""Offers of freed time: made when time frees up, accepted, declined or expired.

When time frees up (a cancellation, or an appointment moved away), `waitlist_time_freed` runs
once that change has committed: `scheduling.services` sends the `appointment_time_freed` signal
on commit, and `SchedulingConfig.ready()` connects it here. It picks the eligible waiting
patients in priority, then waiting-time order and offers the time to the first
WAITLIST_OFFERS_AT_ONCE of them, each by a signed link that expires after WAITLIST_OFFER_TTL. The
first to accept gets the time through `appointment_book` (or `appointment_reschedule` of the
booking they already hold, which takes the new time before it gives up the old), so the
database's no-double-booking guarantee decides any race; a partial unique index also allows one
accepted offer per slot. The others are told the time is gone. Staff can do the same by hand
from the waitlist and slot pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.waitlist.notices import OFFER_KIND, messages_queue, outbox_wake
from frontdesk.scheduling.waitlist.selectors import (
    Candidate,
    offer_state,
    offers_still_open,
    waitlist_candidates,
)
from frontdesk.scheduling.waitlist.steps import (
    entry_close,
    entry_take,
    offer_close,
    retrying_deadlocks,
)
from frontdesk.scheduling.waitlist.terms import OfferAnswer, OfferOutcome, offer_fits_entry


def appointment_time_freed_receive(
    sender: object, *, schedule_id: int, start: dt.datetime, end: dt.datetime, **kwargs: Any
) -> None:
    """`scheduling.signals.appointment_time_freed`: offer the time to the waitlist."""
    waitlist_time_freed(schedule_id=schedule_id, start=start, end=end)


def waitlist_time_freed(
    *,
    schedule_id: int,
    start: dt.datetime,
    end: dt.datetime,
    context: AuditContext = SYSTEM_CONTEXT,
) -> list[WaitlistOffer]:
    """Offer time that just became free on a schedule to the next waitlisted patients.

    Runs after the cancellation or move that freed the time has committed (`on_commit`), or
    when a member of staff asks. Nothing is offered while earlier offers of the same time are
    still open, so one freed time goes out in one batch at a time. Each entry is locked and
    checked again before its offer is made, so a change saved meanwhile is respected."""
    now = timezone.now()
    if end <= now:
        return []
    offers = retrying_deadlocks(
        lambda: _offer_freed_time(
            schedule_id=schedule_id, start=start, end=end, now=now, context=context
        )
    )
    outbox_wake(offers)
    return offers


@transaction.atomic
def _offer_freed_time(
    *,
    schedule_id: int,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    context: AuditContext,
) -> list[WaitlistOffer]:
    # Serialises batches per schedule. FOR NO KEY UPDATE of the schedule row alone: it does
    # not block bookings' FK checks, and the provider's row stays free for the bookings that
    # queue on it while holding an entry we may wait for (`_candidates_locked`).
    schedule = (
        Schedule.objects.select_for_update(no_key=True, of=("self",))
        .select_related("provider", "location")
        .filter(pk=schedule_id, is_active=True)
        .first()
    )
    if schedule is None:
        return []
    if offers_still_open(now).filter(schedule=schedule, start__lt=end, end__gt=start).exists():
        return []
    candidates = _candidates_locked(
        schedule=schedule,
        start=max(start, now),
        end=end,
        now=now,
        wanted=settings.WAITLIST_OFFERS_AT_ONCE,
    )
    offers = [
        WaitlistOffer.objects.create(
            entry=c.entry,
            schedule=schedule,
            provider=schedule.provider,
            start=c.slot.start,
            end=c.slot.end,
            status=WaitlistOfferStatus.OFFERED,
            expires_at=now + settings.WAITLIST_OFFER_TTL,
            created_at=now,
        )
        for c in candidates
    ]
    messages_queue(offers, OFFER_KIND, now)
    if offers:
        audit_record(
            context=context,
            action=AuditAction.CREATE,
            patient_ids=[o.entry.patient_id for o in offers],
            object_type=AuditObject.WAITLIST_OFFER,
            detail={
                "event": "freed time offered",
                "schedule": schedule.pk,
                "start": start.isoformat(),
                "offers": [o.pk for o in offers],
            },
        )
    return offers


def _lock_entries(entry_ids: Collection[int]) -> None:
    """Take the entries' row locks for the rest of the transaction, in id order (PostgreSQL;
    SQLite's IMMEDIATE transaction already serialises writers)."""
    list(
        WaitlistEntry.objects.select_for_update()
        .filter(pk__in=sorted(entry_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _candidates_locked(
    *, schedule: Schedule, start: dt.datetime, end: dt.datetime, now: dt.datetime, wanted: int
) -> list[Candidate]:
    """The first `wanted` waiting patients the time can be offered to, each entry locked and
    found fitting again under its lock.

    The list is read without locks, so staff may change or remove an entry, the patient may
    take another offer, or another freed time may be offered to them before the lock is taken:
    reading the locked entries again through the same checks sees what committed first, and an
    entry that no longer fits is passed over for the next in line. A change or removal that
    comes after waits for this transaction and then withdraws the offer made here.
    Lock order: the schedule, then the entries; no offer row is locked here, so this agrees
    with accepting, changing and removing (an entry's offers, then the entry)."""
    chosen: list[Candidate] = []
    passed: set[int] = set()
    while len(chosen) < wanted:
        found = waitlist_candidates(
            schedule=schedule,
            start=start,
            end=end,
            now=now,
            limit=wanted - len(chosen),
            passed=passed,
        )
        if not found:
            break
        entry_ids = [c.entry.pk for c in found]
        _lock_entries(entry_ids)
        passed.update(entry_ids)
        chosen += waitlist_candidates(
            schedule=schedule, start=start, end=end, now=now, among=entry_ids
        )
    return chosen


def patient_context(context: AuditContext, *, clinic_id: int) -> AuditContext:
    """The audit identity of a patient acting through a signed link."""
    return dataclasses.replace(
        context,
        actor_id=None,
        actor_username="patient (signed link)",
        actor_role="patient",
        clinic_id=clinic_id,
        purpose="treatment: patient answered a waitlist offer",
    )


def waitlist_offer_shown(*, context: AuditContext, offer: WaitlistOffer) -> str:
    """The patient opened the offer's link: its state (`offer_state`), the look recorded
    under the patient's identity. Opening the link never acts."""
    state = offer_state(offer)
    with transaction.atomic():
        audit_record(
            context=patient_context(context, clinic_id=offer.entry.clinic_id),
            action=AuditAction.VIEW,
            patient_ids=[offer.entry.patient_id],
            object_type=AuditObject.WAITLIST_OFFER,
            object_id=offer.pk,
        )
    return state


def _refused_outcome(offer: WaitlistOffer) -> OfferOutcome:
    if offer.status == WaitlistOfferStatus.ACCEPTED:
        return OfferOutcome.ALREADY_YOURS
    return OfferOutcome(offer.status)


def _lock_offer(offer_id: int) -> tuple[WaitlistOffer, WaitlistEntry]:
    offer = WaitlistOffer.objects.select_for_update().get(pk=offer_id)
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment_type", "current_appointment")
        .get(pk=offer.entry_id)
    )
    return offer, entry


def waitlist_offer_accept(*, context: AuditContext, offer_id: int) -> OfferAnswer:
    """The patient accepts an offer through their link. The first acceptance of a time books
    it; any later one, or one after the offer expired, is told so and changes nothing. An offer
    that no longer fits what its entry waits for books nothing either: it is withdrawn and its
    time goes to the next patients."""
    answer, gone, withdrawn = retrying_deadlocks(
        lambda: _accept(context=context, offer_id=offer_id)
    )
    outbox_wake(gone)
    for offer in withdrawn:
        waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)
    return answer


@transaction.atomic
def _accept(
    *, context: AuditContext, offer_id: int
) -> tuple[OfferAnswer, list[WaitlistOffer], list[WaitlistOffer]]:
    """The answer, the other offers of the time now gone, and the offer itself if it was
    withdrawn just now because it no longer fits its entry (its time goes to the next)."""
    now = timezone.now()
    offer, entry = _lock_offer(offer_id)
    context = patient_context(context, clinic_id=entry.clinic_id)
    if offer.status == WaitlistOfferStatus.OFFERED and offer.expires_at <= now:
        offer_close(offer, WaitlistOfferStatus.EXPIRED, now)
    if offer.status == WaitlistOfferStatus.OFFERED and entry.status != WaitlistStatus.WAITING:
        offer_close(offer, WaitlistOfferStatus.GONE, now)
    if offer.status != WaitlistOfferStatus.OFFERED:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=[entry.patient_id],
            object_type=AuditObject.WAITLIST_OFFER,
            object_id=offer.pk,
            detail={"event": "acceptance refused", "status": offer.status},
        )
        # A declined offer cannot be taken back: for the patient, the time is gone.
        outcome = _refused_outcome(offer)
        return (
            OfferAnswer(OfferOutcome.GONE if outcome == OfferOutcome.DECLINED else outcome, offer),
            [],
            [],
        )
    schedule = Schedule.objects.select_related("provider", "location").get(pk=offer.schedule_id)
    offer.schedule = schedule
    # A change of the entry withdraws the offers that no longer fit it; should an entry be
    # changed some other way, the time is still not booked against what the patient waits for.
    # (The type of visit booked is the entry's own, so only the rest of its terms is checked.)
    provider_ids = set(entry.providers.values_list("pk", flat=True))
    if not offer_fits_entry(
        offer, entry, offered_type_id=entry.appointment_type_id, provider_ids=provider_ids
    ):
        offer_close(offer, WaitlistOfferStatus.WITHDRAWN, now)
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[entry.patient_id],
            object_type=AuditObject.WAITLIST_OFFER,
            object_id=offer.pk,
            detail={"event": "acceptance refused", "status": offer.status, "fits": False},
        )
        return OfferAnswer(OfferOutcome.WITHDRAWN, offer), [], [offer]
    try:
        with transaction.atomic():
            # The other offers of the time are closed below as gone, and the patients told.
            appointment = entry_take(
                context=context,
                user=None,
                entry=entry,
                schedule=schedule,
                start=offer.start,
                offers=services.OpenOffers.LEAVE,
            )
            offer.status = WaitlistOfferStatus.ACCEPTED
            offer.responded_at = now
            offer.appointment = appointment
            offer.save(update_fields=["status", "responded_at", "appointment"])
    except (services.BookingRefusedError, IntegrityError) as exc:
        # Someone else was first (SlotTakenError, or the one-accepted-per-slot index), or
        # the time can no longer be booked; either way the patient is told it is gone.
        offer.status = WaitlistOfferStatus.OFFERED
        offer_close(offer, WaitlistOfferStatus.GONE, now)
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[entry.patient_id],
            object_type=AuditObject.WAITLIST_OFFER,
            object_id=offer.pk,
            detail={"event": "acceptance lost", "reason": str(exc)[:200]},
        )
        return OfferAnswer(OfferOutcome.GONE, offer), [], []
    gone = entry_close(entry, appointment, now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[entry.patient_id, *(o.entry.patient_id for o in gone)],
        object_type=AuditObject.WAITLIST_OFFER,
        object_id=offer.pk,
        detail={
            "event": "offer accepted",
            "appointment": appointment.pk,
            "gone": [o.pk for o in gone],
        },
    )
    return OfferAnswer(OfferOutcome.ACCEPTED, offer, appointment), gone, []


def waitlist_offer_decline(*, context: AuditContext, offer_id: int) -> OfferAnswer:
    """The patient says no thanks; once no offer of the time is open, it goes to the next."""
    now = timezone.now()
    with transaction.atomic():
        offer, entry = _lock_offer(offer_id)
        context = patient_context(context, clinic_id=entry.clinic_id)
        if offer.status != WaitlistOfferStatus.OFFERED or offer.expires_at <= now:
            if offer.status == WaitlistOfferStatus.OFFERED:
                offer_close(offer, WaitlistOfferStatus.EXPIRED, now)
            audit_record(
                context=context,
                action=AuditAction.VIEW,
                patient_ids=[entry.patient_id],
                object_type=AuditObject.WAITLIST_OFFER,
                object_id=offer.pk,
                detail={"event": "decline refused", "status": offer.status},
            )
            return OfferAnswer(_refused_outcome(offer), offer)
        offer_close(offer, WaitlistOfferStatus.DECLINED, now)
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[entry.patient_id],
            object_type=AuditObject.WAITLIST_OFFER,
            object_id=offer.pk,
            detail={"event": "offer declined"},
        )
    waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)
    return OfferAnswer(OfferOutcome.DECLINED, offer)


def waitlist_offers_expire(*, now: dt.datetime | None = None) -> int:
    """Close offers whose link ran out and offer their time to the next patients (periodic)."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            WaitlistOffer.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status=WaitlistOfferStatus.OFFERED, expires_at__lte=now)
            .select_related("entry")
            .order_by("pk")
        )
        for offer in stale:
            offer_close(offer, WaitlistOfferStatus.EXPIRED, now)
        if stale:
            audit_record(
                context=SYSTEM_CONTEXT,
                action=AuditAction.UPDATE,
                patient_ids=[o.entry.patient_id for o in stale],
                object_type=AuditObject.WAITLIST_OFFER,
                detail={"event": "offers expired", "offers": [o.pk for o in stale]},
            )
    for schedule_id, start, end in sorted({(o.schedule_id, o.start, o.end) for o in stale}):
        waitlist_time_freed(schedule_id=schedule_id, start=start, end=end)
    return len(stale)
