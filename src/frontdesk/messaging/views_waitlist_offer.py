"""The patient's page behind a waitlist offer's link (`/w/<token>/`). Public (no sign-in): the
signed token is the credential. Reading the page never acts; the patient's answer goes to the
waitlist's services (scheduling/waitlist/offers.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from frontdesk.accounts.policy import public
from frontdesk.audit.services import audit_context
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.links import LinkExpiredError, LinkInvalidError
from frontdesk.messaging.waitlist_messages import offer_id_from_token
from frontdesk.scheduling.models import Appointment, WaitlistOffer, WaitlistStatus
from frontdesk.scheduling.waitlist.offers import (
    waitlist_offer_accept,
    waitlist_offer_decline,
    waitlist_offer_shown,
)
from frontdesk.scheduling.waitlist.selectors import offer_place, waitlist_offer_get
from frontdesk.scheduling.waitlist.terms import offer_moves_booking


def _offer_page(
    request: HttpRequest,
    state: str,
    *,
    status: int = 200,
    offer: WaitlistOffer | None = None,
    **extra: Any,
) -> HttpResponse:
    context: dict[str, Any] = {"state": state, **extra}
    if offer is not None:
        context |= {
            "offer": offer,
            "place": offer_place(offer),
            "moves": offer_moves_booking(offer),
        }
    return render(request, "messaging/waitlist_offer.html", context, status=status)


def _offer_as_it_stands(
    request: HttpRequest, offer: WaitlistOffer, *, error: str = ""
) -> HttpResponse:
    """The offer's page in its current state; the patient saw it, so it is audited."""
    state = waitlist_offer_shown(context=audit_context(request), offer=offer)
    appointment: Appointment | None = offer.appointment if state == "already-yours" else None
    error = error if state == "open" else ""  # the answer no longer matters otherwise
    status = 410 if state in ("gone", "expired", "withdrawn") else 400 if error else 200
    return _offer_page(
        request,
        state,
        status=status,
        offer=offer,
        appointment=appointment,
        waiting=offer.entry.status == WaitlistStatus.WAITING,
        error=error,
    )


@public
def offer_view(request: HttpRequest, token: str) -> HttpResponse:
    """What a patient's offer link opens. Reading the page never acts (mail scanners follow
    links); only the buttons, posted, accept or decline. A bad or old link acts on nothing."""
    try:
        offer_id = offer_id_from_token(token)
    except LinkExpiredError:
        return _offer_page(request, "expired", status=410)
    except LinkInvalidError:
        return _offer_page(request, "invalid", status=400)
    offer = waitlist_offer_get(offer_id)
    if offer is None:
        return _offer_page(request, "invalid", status=400)
    # A public page: shown in the offer's clinic's zone (the middleware's ends with the request).
    timezone.activate(clinic_zone(offer.entry.clinic_id))
    if request.method != "POST":
        return _offer_as_it_stands(request, offer)
    context = audit_context(request)
    if request.POST.get("answer") == "accept":
        answer = waitlist_offer_accept(context=context, offer_id=offer.pk)
    elif request.POST.get("answer") == "decline":
        answer = waitlist_offer_decline(context=context, offer_id=offer.pk)
    else:
        error = "Please answer with one of the two buttons: take this time, or no, thank you."
        return _offer_as_it_stands(request, offer, error=error)
    status = 200 if answer.outcome in ("accepted", "already-yours", "declined") else 410
    offer.entry.refresh_from_db(fields=["status"])
    return _offer_page(
        request,
        answer.outcome,
        status=status,
        offer=offer,
        appointment=answer.appointment,
        waiting=offer.entry.status == WaitlistStatus.WAITING,
    )
