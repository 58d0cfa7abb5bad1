"""The signed token in a patient's link to a waitlist offer (`/w/<token>/`)."""

from __future__ import annotations

from django.conf import settings

from frontdesk.messaging.links import make_token, read_token
from frontdesk.scheduling.models import WaitlistOffer

OFFER_PURPOSE = "waitlist-offer"


def offer_token(offer: WaitlistOffer) -> str:
    return make_token(OFFER_PURPOSE, offer.pk)


def offer_id_from_token(token: str) -> int:
    """The offer inside a patient's link. Raises messaging.links.LinkExpiredError or
    LinkInvalidError; the offer's own `expires_at` is checked again when it is accepted."""
    return read_token(OFFER_PURPOSE, token, max_age=settings.WAITLIST_OFFER_TTL)
