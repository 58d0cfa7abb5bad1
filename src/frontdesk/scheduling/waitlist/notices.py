"""How the waitlist reaches patients: through the post that messaging registers.

Messages (the offer, the note that a time is gone) are written to the outbox in the transaction
that records the offer or closes it, so a message never announces an offer that was rolled back
and is never lost with a worker; the worker sends them, each at most once, while they still
make sense (an offer still open, a "gone" note before the offer would have expired). Their words
and the outbox kinds that render them are messaging's (`messaging/waitlist_messages.py`).

Messaging sits above scheduling (its reminders read appointments), so the waitlist does not
import it: `MessagingConfig.ready()` registers a `WaitlistPost`, as it registers the outbox
kinds, and the waitlist asks it who can be reached, queues through it, and wakes the worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import WaitlistOffer

OFFER_KIND = "waitlist-offer"
GONE_KIND = "waitlist-gone"


@dataclass(frozen=True)
class WaitlistPost:
    """What the waitlist needs from the app that delivers its messages."""

    # Whether the patient agreed to email or text messages that we can send.
    reachable: Callable[[Patient], bool]
    # Queue one message (kind, offer id, patient, now) in the caller's transaction; False when
    # the same message was queued before.
    queue: Callable[[str, int, Patient, dt.datetime], bool]
    # After the transaction: ask the worker to send now.
    wake: Callable[[], None]


_registered: list[WaitlistPost] = []


def waitlist_post_register(post: WaitlistPost) -> None:
    """Called once, from `MessagingConfig.ready()`."""
    _registered[:] = [post]


def _post() -> WaitlistPost:
    if not _registered:
        raise ImproperlyConfigured("The waitlist's messages need frontdesk.messaging installed.")
    return _registered[0]


def patient_reachable(patient: Patient) -> bool:
    """Whether the patient agreed to email or text messages that we can send."""
    return _post().reachable(patient)


def messages_queue(offers: Sequence[WaitlistOffer], kind: str, now: dt.datetime) -> None:
    """Inside the transaction that made or closed the offers."""
    post = _post()
    for offer in offers:
        post.queue(kind, offer.pk, offer.entry.patient, now)


def outbox_wake(offers: Sequence[WaitlistOffer]) -> None:
    """After the transaction: ask the worker to send now (the outbox holds the messages)."""
    if offers:
        _post().wake()


def waitlist_messages_send(*, offer_ids: Sequence[int], kind: str) -> int:
    """Queue the offer ("offer") or the "it is gone" note ("gone") for each offer in the
    outbox; kept for tasks queued before messages went through it. Returns how many."""
    post = _post()
    offers = WaitlistOffer.objects.filter(pk__in=list(offer_ids)).select_related("entry__patient")
    now = timezone.now()
    queued = 0
    for offer in offers.order_by("pk"):
        outbox_kind = OFFER_KIND if kind == "offer" else GONE_KIND
        if post.queue(outbox_kind, offer.pk, offer.entry.patient, now):
            queued += 1
    if queued:
        post.wake()
    return queued
