from __future__ import annotations

import base64
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from frontdesk.accounts import selectors, services, sign_in
from frontdesk.accounts.forms import LoginForm, PasswordChangeRequiredForm, TokenForm
from frontdesk.accounts.middleware import user_is_verified
from frontdesk.accounts.models import User
from frontdesk.accounts.navigation import landing_url
from frontdesk.accounts.policy import Action, policy, public, staff_user
from frontdesk.accounts.throttle import address_valid, too_many_attempts_message
from frontdesk.audit.services import audit_context

RECOVERY_CODES_SESSION_KEY = "frontdesk_new_recovery_codes"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@public
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    refusal = sign_in.password_check(request, form) if request.method == "POST" else None
    if refusal is not None:
        # A fresh form: the refused one must not be validated, which would try the password.
        form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    if refusal is None and form.is_bound and form.is_valid():
        user = form.get_user()
        auth_login(request, user)
        services.sign_in_record(context=audit_context(request))
        response = HttpResponseRedirect(_safe_next(request, landing_url(getattr(user, "role", ""))))
        if isinstance(user, User) and not user.needs_two_factor:
            sign_in.sign_in_finish(request, response, user)
        return response
    context = {
        "form": form,
        "refusal": refusal,
        "next": _safe_next(request, ""),
        "timed_out": request.GET.get("timed_out") == "1",
        "signed_out": request.GET.get("signed_out") == "1",
        "password_set": request.GET.get("password_set") == "1",
        "idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
    }
    status = 429 if refusal else 400 if form.is_bound else 200
    return render(request, "accounts/login.html", context, status=status)


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes calls this when an address passes the per-address limit during a check
    (the sign-in page usually refuses such an address before any password is tried)."""
    until = timezone.now() + settings.AXES_COOLOFF_TIME
    context = {"refusal": too_many_attempts_message(until)}
    return render(request, "accounts/locked_out.html", context, status=429)


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.sign_out_record(context=audit_context(request))
    auth_logout(request)
    # Said by the sign-in page, not by a message: a message would open a new session (and a
    # row in the session table) for a visitor who is no longer anyone.
    return redirect(f"{reverse('accounts:login')}?signed_out=1")


@policy(Action.ACCOUNT_SELF)
@sensitive_post_parameters("token")
@never_cache
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator (first time) or prove the second factor (every sign-in)."""
    user = staff_user(request)
    if user_is_verified(user):
        return redirect("home")
    enrolling = not services.two_factor_has_device(user=user)
    form = TokenForm(request.POST if request.method == "POST" else None)
    refusal: str | None = None
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if enrolling:
            confirmed = services.two_factor_confirm(user=user, token=token)
            if confirmed is not None:
                device, codes = confirmed
                django_otp.login(request, device)
                request.session[RECOVERY_CODES_SESSION_KEY] = codes
                return sign_in.sign_in_finish(request, redirect("accounts:recovery_codes"), user)
        else:
            matched, refusal = sign_in.code_check(request, user, token)
            if matched is not None:
                django_otp.login(request, matched)
                response = HttpResponseRedirect(_safe_next(request, landing_url(user.role)))
                return sign_in.sign_in_finish(request, response, user)
        form.add_error(
            "token", refusal or "That code is not right or has expired. Try the newest code."
        )
    context: dict[str, Any] = {"form": form, "enrolling": enrolling}
    if enrolling:
        device = services.two_factor_device_pending(user=user)
        context["secret"] = base64.b32encode(device.bin_key).decode().rstrip("=")
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    status = 429 if refusal else 400 if form.errors else 200
    return render(request, "accounts/two_factor.html", context, status=status)


@policy(Action.ACCOUNT_SELF)
@never_cache
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """Shows newly made recovery codes once; they are not stored in readable form anywhere."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(
            request, "Recovery codes are shown only once. Make new ones if you lost them."
        )
        return redirect("accounts:account")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@policy(Action.ACCOUNT_SELF)
@never_cache
def account_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if request.method == "POST" and request.POST.get("operation") == "new_recovery_codes":
        if not services.two_factor_has_device(user=user):
            messages.error(request, "Set up an authenticator app first.")
            return redirect("accounts:account")
        request.session[RECOVERY_CODES_SESSION_KEY] = services.recovery_codes_regenerate(user=user)
        return redirect("accounts:recovery_codes")
    context = {"has_two_factor": services.two_factor_has_device(user=user)}
    return render(request, "accounts/account.html", context)


@policy(Action.ACCOUNT_SELF)
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Choose a new password: any time from My account, and before anything else after an
    administrator gave a temporary one (PasswordChangeRequiredMiddleware sends them here)."""
    user = staff_user(request)
    form = PasswordChangeRequiredForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.password_change(
            context=audit_context(request), user=user, password=form.cleaned_data["new_password1"]
        )
        # The password is part of the session's signature: this session goes on, others end.
        update_session_auth_hash(request, user)
        messages.success(request, "Your password is changed.")
        return redirect("home")
    context = {"form": form, "required": user.must_change_password}
    status = 400 if form.errors else 200
    return render(request, "accounts/password_change.html", context, status=status)


@policy(Action.ACCOUNT_SELF)
@require_POST
def session_ping_view(request: HttpRequest) -> HttpResponse:
    """Called by the page when the person is active (typing, clicking) or chose to stay
    signed in; the idle middleware has already moved the session's last-activity time."""
    return HttpResponse(status=204)


@policy(Action.ACCOUNT_UNLOCK)
@never_cache
def locks_view(request: HttpRequest) -> HttpResponse:
    """Sign-in throttles shut now, addresses past the limit, accounts with repeated failures."""
    clinic_id = staff_user(request).clinic_id
    context = {
        "throttles": selectors.sign_in_throttles_shut(clinic_id=clinic_id),
        "addresses": selectors.sign_in_addresses_shut(),
        "alerts": selectors.sign_in_alerts_recent(clinic_id=clinic_id),
        "delay_after": settings.SIGN_IN_DELAY_AFTER,
    }
    return render(request, "accounts/locks.html", context)


@policy(Action.ACCOUNT_UNLOCK)
@require_POST
def unlock_view(request: HttpRequest) -> HttpResponse:
    clinic_id = staff_user(request).clinic_id
    throttle_id = request.POST.get("throttle", "")
    address = request.POST.get("address", "").strip()
    if throttle_id:
        throttle = selectors.sign_in_throttle_of_clinic(
            clinic_id=clinic_id, throttle_id=throttle_id
        )
        if throttle is None:
            messages.info(request, "That lock has already been lifted.")
        else:
            services.sign_in_throttle_unlock(context=audit_context(request), throttle=throttle)
            messages.success(request, f"Unlocked {throttle.username}: they can sign in now.")
    elif address_valid(address):
        services.sign_in_address_unlock(context=audit_context(request), address=address)
        messages.success(request, f"Unlocked the address {address}.")
    else:
        messages.error(request, "Choose a lock to lift with its Unlock button.")
    return redirect("accounts:locks")


@public
def healthz_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@public
def favicon_view(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links: send them to the shipped icon."""
    return redirect(static("frontdesk/favicon.svg"), permanent=True)
