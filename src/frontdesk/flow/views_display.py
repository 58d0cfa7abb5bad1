"""The waiting-room screen (public, by signed link) and the page that sets screens up."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from frontdesk.accounts.policy import Action, policy, public, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.flow import display
from frontdesk.flow.models import WaitingRoomDisplay
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.ids import parse_id


def _screen(request: HttpRequest) -> WaitingRoomDisplay:
    # The token travels in the query string, which the access log does not write.
    found = display.display_from_token(request.GET.get("token", "")[:200])
    if found is None:
        raise Http404("This screen link is not valid; it may have been replaced.")
    # A public page: shown in the screen's clinic's zone (the middleware's ends with the request).
    timezone.activate(clinic_zone(found.clinic_id))
    return found


@public
def display_view(request: HttpRequest) -> HttpResponse:
    """The waiting-room screen: tickets only, refreshed every two seconds by display.js."""
    screen = _screen(request)
    context = {
        "view": display.display_page(screen, now=timezone.now()),
        "live_url": f"{reverse('flow:display_live')}?token={request.GET['token']}",
    }
    return render(request, "flow/display.html", context)


@public
def display_live_view(request: HttpRequest) -> HttpResponse:
    screen = _screen(request)
    view = display.display_page(screen, now=timezone.now())
    return render(request, "flow/_display.html", {"view": view})


@policy(Action.FLOW_DISPLAY_MANAGE)
def displays_view(request: HttpRequest) -> HttpResponse:
    """Waiting-room screens: add one, copy its link, replace a link that got out."""
    clinic = staff_clinic(staff_user(request))
    status = 200
    if request.method == "POST":
        try:
            if replace_id := parse_id(request.POST.get("replace")):
                screen = get_object_or_404(WaitingRoomDisplay, pk=replace_id, clinic=clinic)
                display.display_replace_link(
                    context=audit_context(request), display=screen, user=staff_user(request)
                )
                messages.success(request, f"{screen.name} has a new link; the old one is dead.")
            else:
                screen = display.display_create(
                    context=audit_context(request),
                    clinic=clinic,
                    name=request.POST.get("name", ""),
                )
                messages.success(request, f"Added {screen.name}. Open its link on the screen.")
            return redirect("flow:displays")
        except display.DisplayRefusedError as exc:
            messages.error(request, str(exc))
            status = 400
    links = [
        (
            screen,
            request.build_absolute_uri(
                f"{reverse('flow:display')}?token={display.display_token(screen)}"
            ),
        )
        for screen in WaitingRoomDisplay.objects.filter(clinic=clinic).order_by("name")
    ]
    context = {"links": links, "name": request.POST.get("name", "")}
    return render(request, "flow/displays.html", context, status=status)
