"""The waitlist's messages to patients: the offer of an earlier time and the note that an
offered time is gone (email text and HTML, text message), written here with the offer's link;
the outbox kinds that render them when the worker sends them; and `WAITLIST_POST`, through which
the waitlist (scheduling/waitlist/notices.py, which does not import messaging) queues them. All
registered in `MessagingConfig.ready()`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from frontdesk.lib.links import make_token, read_token
from frontdesk.messaging.channels import consented_channels
from frontdesk.messaging.content import appointment_when
from frontdesk.messaging.models import OutboxMessage, OutboxStatus
from frontdesk.messaging.outbox import NotRelevantError, OutboxKind, Outgoing, outbox_add
from frontdesk.messaging.tasks import outbox_kick
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import WaitlistOffer, WaitlistOfferStatus, WaitlistStatus
from frontdesk.scheduling.waitlist.notices import GONE_KIND, OFFER_KIND, WaitlistPost
from frontdesk.scheduling.waitlist.selectors import offer_place
from frontdesk.scheduling.waitlist.terms import offer_moves_booking

OFFER_PURPOSE = "waitlist-offer"


def offer_token(offer: WaitlistOffer) -> str:
    return make_token(OFFER_PURPOSE, offer.pk)


def offer_id_from_token(token: str) -> int:
    """The offer inside a patient's link. Raises lib.links.LinkExpiredError or
    LinkInvalidError; the offer's own `expires_at` is checked again when it is accepted."""
    return read_token(OFFER_PURPOSE, token, max_age=settings.WAITLIST_OFFER_TTL)


def offer_link(offer: WaitlistOffer) -> str:
    path = reverse("waitlist_offer", kwargs={"token": offer_token(offer)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _when(moment: dt.datetime, clinic_id: int) -> str:
    when = appointment_when(moment, clinic_id)
    return f"{when.date} at {when.time}"


# Like reminders (messaging/content.py), offers name only the patient's first name, the time
# and the place: a message or link may be read by someone else, and the kind of visit, the
# provider or another booking can reveal a diagnosis. The email carries a text part and an HTML
# part from the same words (templates messaging/waitlist_*_email.*; the HTML part escapes
# everything, the name the patient gave us included).


@dataclass(frozen=True)
class WaitlistMessage:
    subject: str
    text: str
    html: str
    sms_text: str


def _email_parts(template: str, context: Mapping[str, object]) -> tuple[str, str]:
    return (
        render_to_string(f"messaging/{template}.txt", context),
        render_to_string(f"messaging/{template}.html", context),
    )


def waitlist_offer_message(offer: WaitlistOffer) -> WaitlistMessage:
    """The offer of an earlier time: email (text and HTML) and text message."""
    link = offer_link(offer)
    context = {
        "first_name": offer.entry.patient.given_name,
        "clinic": settings.CLINIC_NAME,
        "when": _when(offer.start, offer.entry.clinic_id),
        "place": offer_place(offer),
        "expires": _when(offer.expires_at, offer.entry.clinic_id),
        "link": link,
        "moves": offer_moves_booking(offer),
    }
    text, html = _email_parts("waitlist_offer_email", context)
    short = appointment_when(offer.start, offer.entry.clinic_id).short
    sms = (
        f"{settings.CLINIC_NAME}: an earlier time is free, {short} at "
        f"{offer.schedule.location.name}. Take it: {link}"
    )
    return WaitlistMessage("An earlier appointment is free", text, html, sms)


def waitlist_gone_message(offer: WaitlistOffer) -> WaitlistMessage:
    """The note that an offered time has been taken by another patient."""
    context = {
        "first_name": offer.entry.patient.given_name,
        "clinic": settings.CLINIC_NAME,
        "when": _when(offer.start, offer.entry.clinic_id),
    }
    text, html = _email_parts("waitlist_gone_email", context)
    short = appointment_when(offer.start, offer.entry.clinic_id).short
    sms = f"{settings.CLINIC_NAME}: the time on {short} has been taken. You stay on the waitlist."
    return WaitlistMessage("That time has been taken", text, html, sms)


def _offer_for_message(message: OutboxMessage) -> WaitlistOffer:
    return WaitlistOffer.objects.select_related(
        "entry__patient", "entry__current_appointment", "schedule__location"
    ).get(pk=message.object_id)


def _offer_prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    """The offer, sent only while it can still be accepted."""
    offer = _offer_for_message(message)
    if offer.status != WaitlistOfferStatus.OFFERED:
        raise NotRelevantError(f"The offer is {offer.get_status_display().lower()}.")
    if offer.expires_at <= now:
        raise NotRelevantError("The offer expired before it could be sent.")
    if offer.entry.status != WaitlistStatus.WAITING:
        raise NotRelevantError("The patient is no longer waiting.")
    content = waitlist_offer_message(offer)
    return Outgoing(
        offer.entry.patient, content.subject, content.text, content.html, content.sms_text
    )


def _gone_prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    """The "time gone" note, worth sending only while the offer's link would still be open."""
    offer = _offer_for_message(message)
    if offer.expires_at <= now:
        raise NotRelevantError("The offer's link has expired, so the note is no longer needed.")
    content = waitlist_gone_message(offer)
    return Outgoing(
        offer.entry.patient, content.subject, content.text, content.html, content.sms_text
    )


def _offer_status(message: OutboxMessage) -> None:
    """How the offer reached the patient, shown to staff: the channel, or "not sent"."""
    if message.status == OutboxStatus.SENT:
        channel = message.channel
    elif message.status in (OutboxStatus.PARKED, OutboxStatus.CANCELLED):
        channel = "not sent"
    else:
        channel = ""
    WaitlistOffer.objects.filter(pk=message.object_id).update(channel=channel)


def _gone_status(message: OutboxMessage) -> None:
    return  # the outbox row and its audit events are the whole record of a "gone" note


WAITLIST_OFFER = OutboxKind(OFFER_KIND, "Waitlist offer", _offer_prepare, _offer_status)
WAITLIST_GONE = OutboxKind(GONE_KIND, "Waitlist: time taken", _gone_prepare, _gone_status)


def _reachable(patient: Patient) -> bool:
    return bool(consented_channels(patient))


def _queue(kind: str, offer_id: int, patient: Patient, now: dt.datetime) -> bool:
    return outbox_add(kind=kind, object_id=offer_id, patient=patient, now=now) is not None


WAITLIST_POST = WaitlistPost(reachable=_reachable, queue=_queue, wake=outbox_kick)
