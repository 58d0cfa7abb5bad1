"""Password and two-step checks through the throttles (accounts/throttle.py), for the views."""

from __future__ import annotations

import datetime as dt

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_otp.models import Device

from frontdesk.accounts import services
from frontdesk.accounts.forms import LoginForm
from frontdesk.accounts.models import ThrottleKind, User
from frontdesk.accounts.throttle import (
    door_of,
    known_device_remember,
    too_many_attempts_message,
)
from frontdesk.audit.services import audit_context
from frontdesk.lib.clinic_time import clinic_zone, default_zone


def _address_shut_until(request: HttpRequest, username: str) -> dt.datetime | None:
    """When django-axes' per-address limit lifts, if this address is past it."""
    if AxesProxyHandler.is_allowed(request, get_credentials(username)):
        return None
    address = getattr(request, "axes_ip_address", None)
    last = AccessAttempt.objects.filter(ip_address=address).aggregate(last=Max("attempt_time"))
    cool_off: dt.timedelta = settings.AXES_COOLOFF_TIME
    return (last["last"] or timezone.now()) + cool_off


def password_check(request: HttpRequest, form: LoginForm) -> str | None:
    """Validate the sign-in form through the throttles. Returns the refusal ("Too many
    attempts: …") when a door is shut (then no password is checked) or this failure shut it;
    otherwise the form is valid or carries its errors."""
    username = str(request.POST.get("username", ""))
    if not username.strip() or not request.POST.get("password"):
        form.is_valid()  # "This field is required": no password was tried
        return None
    door = door_of(request, ThrottleKind.PASSWORD, username)
    if door.device_id is None:
        until = _address_shut_until(request, username)
        if until is not None:
            return too_many_attempts_message(until)
    until = services.sign_in_attempt_start(door=door)
    if until is not None:
        return too_many_attempts_message(until)
    if form.is_valid():
        services.sign_in_attempt_succeeded(door=door)
        return None
    until = services.sign_in_attempt_failed(context=audit_context(request), door=door)
    return too_many_attempts_message(until) if until is not None else None


def code_check(request: HttpRequest, user: User, token: str) -> tuple[Device | None, str | None]:
    """Check a two-step code (authenticator or recovery code) through the throttles: the
    device it matched, or None and the refusal when a door is shut."""
    door = door_of(request, ThrottleKind.TWO_STEP, user.get_username())
    until = services.sign_in_attempt_start(door=door)
    if until is not None:
        return None, too_many_attempts_message(until)
    device = django_otp.match_token(user, token)
    if device is not None:
        services.sign_in_attempt_succeeded(door=door)
        return device, None
    until = services.sign_in_attempt_failed(context=audit_context(request), door=door)
    return None, too_many_attempts_message(until) if until is not None else None


def sign_in_finish(request: HttpRequest, response: HttpResponse, user: User) -> HttpResponse:
    """After a full sign-in: tell the user about failed attempts since their last one, and
    remember this browser as a known device for them."""
    failed = services.sign_in_completed(user=user)
    if failed is not None:
        # The message is made during the sign-in request, before the page is in their zone.
        zone = clinic_zone(user.clinic) if user.clinic is not None else default_zone()
        local = timezone.localtime(failed.last_at, zone)
        messages.warning(
            request,
            f"{failed.failures} failed sign-in attempts since your last sign-in, the last "
            f"from {failed.last_address or 'an unknown address'} at {local:%H:%M} on "
            f"{local.day} {local:%b %Y}. If they were not yours, tell your administrator.",
        )
    known_device_remember(request, response, user.get_username())
    return response
