"""The patient's page behind a reminder link. Public (no sign-in): the signed token is the
credential, and the page shows only first name, date, time and place."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from frontdesk.accounts.policy import public
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.links import LinkExpiredError, LinkInvalidError
from frontdesk.messaging import patient_links


@public
@require_http_methods(["GET", "POST"])
def appointment_link_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = patient_links.appointment_from_token(token)
    except LinkExpiredError:
        return render(request, "messaging/link_problem.html", {"expired": True}, status=410)
    except LinkInvalidError:
        return render(request, "messaging/link_problem.html", {"expired": False}, status=404)
    # A public page: shown in the visit's clinic's zone (the middleware's ends with the request).
    timezone.activate(clinic_zone(appointment.clinic_id))
    context = patient_links.patient_link_context(request, appointment)
    done = problem = ""
    if request.method == "POST":
        action = str(request.POST.get("action", ""))
        try:
            card = patient_links.appointment_patient_act(
                context=context, appointment=appointment, action=action
            )
            done = action
        except patient_links.PatientActionRefusedError as exc:
            problem = str(exc)
            card = patient_links.appointment_card_view(context=context, appointment=appointment)
    else:
        card = patient_links.appointment_card_view(context=context, appointment=appointment)
    chosen = str(request.GET.get("do", ""))
    return render(
        request,
        "messaging/appointment_link.html",
        {"card": card, "done": done, "problem": problem, "chosen": chosen},
        status=409 if problem else 200,
    )
