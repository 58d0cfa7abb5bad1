"""How the waitlist reaches patients: its messages go through messaging's outbox.

Messages (the offer, the note that a time is gone) are written to the outbox in the transaction
that records the offer or closes it, so a message never announces an offer that was rolled back
and is never lost with a worker; the worker sends them, each at most once, while they still
make sense (an offer still open, a "gone" note before the offer would have expired). Their words
and the outbox kinds that render them live in messaging (`messaging/waitlist_messages.py`).

This module and `tokens.py` are the only ones of scheduling that import messaging: queueing a
message must happen inside the waitlist's own transaction (`outbox_add`), the worker is woken
once it has committed (`outbox_kick`), and only patients who agreed to a channel we can use are
offered time (`consented_channels`, the one place that rule is written)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from frontdesk.messaging.channels import consented_channels
from frontdesk.messaging.outbox import outbox_add
from frontdesk.messaging.tasks import outbox_kick
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import WaitlistOffer

OFFER_KIND = "waitlist-offer"
GONE_KIND = "waitlist-gone"


def patient_reachable(patient: Patient) -> bool:
    """Whether the patient agreed to email or text messages that we can send."""
    return bool(consented_channels(patient))


def messages_queue(offers: Sequence[WaitlistOffer], kind: str, now: dt.datetime) -> None:
    """Inside the transaction that made or closed the offers."""
    for offer in offers:
        outbox_add(kind=kind, object_id=offer.pk, patient=offer.entry.patient, now=now)


def outbox_wake(offers: Sequence[WaitlistOffer]) -> None:
    """After the transaction: ask the worker to send now (the outbox holds the messages)."""
    if offers:
        outbox_kick()


def waitlist_messages_send(*, offer_ids: Sequence[int], kind: str) -> int:
    """Queue the offer ("offer") or the "it is gone" note ("gone") for each offer in the
    outbox; kept for tasks queued before messages went through it. Returns how many."""
    offers = WaitlistOffer.objects.filter(pk__in=list(offer_ids)).select_related("entry__patient")
    now = timezone.now()
    queued = 0
    for offer in offers.order_by("pk"):
        outbox_kind = OFFER_KIND if kind == "offer" else GONE_KIND
        if outbox_add(kind=outbox_kind, object_id=offer.pk, patient=offer.entry.patient, now=now):
            queued += 1
    if queued:
        outbox_kick()
    return queued
