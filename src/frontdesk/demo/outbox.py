"""The demo outbox: in demo mode (settings.FRONTDESK_DEMO) `messaging.channels.deliver` keeps
each rendered email or text message here instead of sending it, and `/demo/outbox/` lists them,
so a newcomer sees the reminders and waitlist offers patients would have received.

Keeping a message stands in for the network, so it writes no audit event of its own: the outbox
records "message sent" with its audit event as it does after a real send."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from frontdesk.demo.models import DemoMessage
from frontdesk.patients.models import Patient

# The page lists the newest this many.
LIST_LIMIT = 200


def demo_message_keep(
    *, patient: Patient, channel: str, recipient: str, subject: str, body: str, key: str = ""
) -> DemoMessage:
    """Keep one message as delivered; a second delivery with the same key keeps the first."""
    if key:
        held = DemoMessage.objects.filter(key=key).first()
        if held is not None:
            return held
    try:
        with transaction.atomic():
            return DemoMessage.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                sent_at=timezone.now(),
                channel=channel,
                recipient=recipient,
                subject=subject[:200],
                body=body,
                key=key,
            )
    except IntegrityError:  # the same message, kept meanwhile by another attempt
        return DemoMessage.objects.get(key=key)


def demo_messages(clinic_id: int) -> QuerySet[DemoMessage]:
    """The clinic's kept messages, newest first, with their patients."""
    return (
        DemoMessage.objects.filter(clinic_id=clinic_id)
        .select_related("patient")
        .order_by("-sent_at", "-pk")[:LIST_LIMIT]
    )
