"""The steps that staff's and patients' bookings from the waitlist share: book the time for an
entry, close it and its offers, tell the other offered patients the time is gone, and run the
whole transaction again after a deadlock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

from frontdesk.accounts.models import User
from frontdesk.audit.services import AuditContext
from frontdesk.desk.live import desk_changed
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.waitlist.notices import GONE_KIND, messages_queue
from frontdesk.scheduling.waitlist.terms import HELD

T = TypeVar("T")


def offer_close(offer: WaitlistOffer, status: WaitlistOfferStatus, now: dt.datetime) -> None:
    """Close a locked offer with its outcome (the caller holds the offer's row lock)."""
    offer.status = status
    offer.responded_at = now
    offer.save(update_fields=["status", "responded_at"])
    # An offer about to expire is desk work until it is answered or expires.
    desk_changed(offer.schedule.clinic_id)


def entry_close(
    entry: WaitlistEntry, appointment: Appointment, now: dt.datetime
) -> list[WaitlistOffer]:
    """The locked entry's patient is booked into `appointment`: they wait no longer, and other
    patients' open offers of that time are gone (returned, for the audit event)."""
    entry.status = WaitlistStatus.BOOKED
    entry.closed_at = now
    entry.save(update_fields=["status", "closed_at"])
    return offers_withdraw_overlapping(
        schedule_id=appointment.schedule_id, start=appointment.start, end=appointment.end, now=now
    )


def entry_take(
    *,
    context: AuditContext,
    user: User | None,
    entry: WaitlistEntry,
    schedule: Schedule,
    start: dt.datetime,
    offers: services.OpenOffers,
) -> Appointment:
    """Book the time for the entry's patient, moving the booking they hold if there is one."""
    current = entry.current_appointment
    if current is not None and current.status in HELD:
        return services.appointment_reschedule(
            context=context,
            user=user,
            appointment=current,
            schedule=schedule,
            start=start,
            reason="earlier time from the waitlist",
            offers=offers,
        )
    return services.appointment_book(
        context=context,
        user=user,
        patient=entry.patient,
        schedule=schedule,
        appointment_type=entry.appointment_type,
        start=start,
        note="from the waitlist",
        offers=offers,
    )


def offers_withdraw_overlapping(
    *, schedule_id: int, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> list[WaitlistOffer]:
    """Open offers of time now taken become `gone`; returns them for the 'gone' message.

    Offers locked right now belong to patients answering at this very moment: they resolve
    their own offer (their booking fails, so it becomes gone), and waiting on them here would
    deadlock with their wait on our booking in the exclusion constraint."""
    overlapping = list(
        WaitlistOffer.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("entry__patient")
        .filter(
            schedule_id=schedule_id,
            status=WaitlistOfferStatus.OFFERED,
            start__lt=end,
            end__gt=start,
        )
        .order_by("pk")
    )
    for offer in overlapping:
        offer_close(offer, WaitlistOfferStatus.GONE, now)
    gone = [o for o in overlapping if o.expires_at > now]
    messages_queue(gone, GONE_KIND, now)
    return gone


def retrying_deadlocks(work: Callable[[], T]) -> T:
    """Run a transaction again when PostgreSQL broke a deadlock by aborting it (SQLSTATE 40P01):
    racing bookings can deadlock in the exclusion constraint, and a savepoint cannot recover
    a booking nested in our transaction, so the whole transaction is tried again."""
    for attempt in range(services.DEADLOCK_RETRIES):
        try:
            return work()
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", None) == "40P01"
            if not deadlock or attempt == services.DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
