"""`{% emergency_banner %}`: the clinic's emergency alerts on every page of the roles that
answer them (base.html). Costs one indexed query for those roles and none for the others."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.context_processors import csrf
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from frontdesk.flow import emergency

register = template.Library()


@register.simple_tag(takes_context=True)
def emergency_banner(context: template.Context) -> SafeString | str:
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return ""
    banner = emergency.emergency_banner(user, now=timezone.now())
    if banner is None:
        return ""
    page = {
        "emergency_banner": banner,
        "emergency_next": request.get_full_path(),
        # What the banner's forms and playbook need, passed as they are: rendered with the
        # request, the banner would run every context processor of the page again (the
        # navigation's URLs among them) on every page of the desk.
        "request": request,
        **csrf(request),
    }
    return render_to_string("flow/_emergency_banner.html", page)
