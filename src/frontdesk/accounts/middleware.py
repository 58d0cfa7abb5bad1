"""Session idle timeout, two-factor and password-change enforcement, PHI-free access log,
secure cookies, no-store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from frontdesk.lib.clinic_time import clinic_zone, default_zone
from frontdesk.lib.redaction import redact_secrets

LAST_ACTIVITY_KEY = "frontdesk_last_activity"
ACTIVITY_RESOLUTION = 30  # seconds
# Requests the page makes on its own (live boards polling) must not keep a session alive.
BACKGROUND_HEADER = "HTTP_X_FRONTDESK_BACKGROUND"

access_log = logging.getLogger("frontdesk.access")

Handler = Callable[[HttpRequest], HttpResponse]


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _is_page(request: HttpRequest, response: HttpResponse) -> bool:
    """A whole HTML page for the browser to show (not an htmx partial, redirect or 204)."""
    status = response.status_code
    return (
        not request.headers.get("HX-Request")
        and status != 204
        and not 300 <= status < 400
        and response.get("Content-Type", "").startswith("text/html")
    )


class ClinicTimeZoneMiddleware:
    """Times are stored in UTC and shown in the signed-in person's clinic's time zone.

    Until the view runs (and for pages of no clinic: sign-in, a signed-out error) the zone is
    `CLINIC_TIME_ZONE`. The view hook runs after the authentication middleware, so it can see
    the user, whose clinic comes in the same query (accounts/backends.py). Public pages that
    belong to a clinic (the waiting-room screen, a patient's link, a calendar feed) name their
    clinic's zone themselves."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(default_zone())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> None:
        user = getattr(request, "user", None)
        clinic = (
            getattr(user, "clinic", None) if user is not None and user.is_authenticated else None
        )
        if clinic is not None:
            timezone.activate(clinic_zone(clinic))


class IdleTimeoutMiddleware:
    """Ends a signed-in session after SESSION_IDLE_MINUTES without activity."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.get_response(request)
        now = timezone.now().timestamp()
        last = request.session.get(LAST_ACTIVITY_KEY)
        idle_limit = settings.SESSION_IDLE_TIMEOUT.total_seconds()
        if isinstance(last, (int, float)) and now - last > idle_limit:
            logout(request)
            login_url = reverse("accounts:login")
            if request.path == login_url:
                # The page itself went to sign-in at the time-out: keep its `next`.
                return self.get_response(request)
            query = urlencode({"timed_out": "1", "next": request.get_full_path()})
            return _redirect(request, f"{login_url}?{query}")
        # Requests the page makes on its own never keep the session alive.
        counts = last is None or not request.META.get(BACKGROUND_HEADER)
        # Any activity stores the time when the stored one is 30 s old or more, which spares a
        # session write on each keystroke of a live search and on each form post.
        stale = not isinstance(last, (int, float)) or now - last >= ACTIVITY_RESOLUTION
        if stale and counts:
            request.session[LAST_ACTIVITY_KEY] = now
        response = self.get_response(request)
        # A full page starts the page's own idle timer, so it always stores its time and the
        # two timers agree. A redirect or an empty answer does not: the page it leads to does.
        if not stale and counts and _is_page(request, response) and request.user.is_authenticated:
            request.session[LAST_ACTIVITY_KEY] = now
        return response


def held_at_two_step(user: object) -> bool:
    """Signed in, but not yet through the two-step sign-in their role needs."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "needs_two_factor", False))
        and not user_is_verified(user)
    )


def held_at_password_change(user: object) -> bool:
    """Signed in with a temporary password they must change before anything else."""
    return bool(getattr(user, "is_authenticated", False)) and bool(
        getattr(user, "must_change_password", False)
    )


def user_is_verified(user: object) -> bool:
    """True once the user proved a second factor this session (django_otp's OTPMiddleware
    adds `is_verified` to the request's user)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


class TwoFactorRequiredMiddleware:
    """Supervisors and administrators see nothing until they prove a second factor."""

    allowed_url_names = frozenset(
        {
            "accounts:two_factor",
            "accounts:recovery_codes",
            "accounts:logout",
            "accounts:login",
            "accounts:session_ping",
        }
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if held_at_two_step(request.user) and not request.path.startswith(settings.STATIC_URL):
            allowed = {reverse(name) for name in self.allowed_url_names}
            if request.path not in allowed:
                return _redirect(request, reverse("accounts:two_factor"))
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A member of staff given a temporary password by an administrator sees nothing but the
    change-password page until they choose their own (after two-step sign-in, for the roles
    that need it: TwoFactorRequiredMiddleware runs first)."""

    allowed_url_names = frozenset(
        {
            "accounts:password_change",
            "accounts:logout",
            "accounts:login",
            "accounts:session_ping",
            "accounts:two_factor",
            "accounts:recovery_codes",
        }
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if held_at_password_change(request.user) and not request.path.startswith(
            settings.STATIC_URL
        ):
            allowed = {reverse(name) for name in self.allowed_url_names}
            if request.path not in allowed:
                return _redirect(request, reverse("accounts:password_change"))
        return self.get_response(request)


class AccessLogMiddleware:
    """One line per request: method, path (never the query string: it can hold search terms;
    a signed link's token is replaced by a placeholder), status, time taken and the staff user
    id. No names, no PHI."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else "-"
        access_log.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            redact_secrets(request.path),
            response.status_code,
            (time.perf_counter() - started) * 1000,
            user_id,
        )
        return response


class SecureCookiesOverHttpsMiddleware:
    """Marks every cookie Secure when the request came over HTTPS (directly or via a proxy
    named in BEHIND_HTTPS_PROXY), so one deployment works on plain loopback and behind TLS."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response


class NoStoreMiddleware:
    """Every page Frontdesk answers is kept out of browser and proxy caches (`no-store`).

    Signed-in pages show patients' data, and a patient's link page (confirm or cancel, a
    waitlist offer) or the waiting-room screen is opened on a shared or public computer: the
    back button or a cache must not show it to the next person. A view that chose its own
    Cache-Control keeps it (the live board's event stream, the calendar feed). Static files are
    answered by WhiteNoise, outside this middleware, and keep their long cache."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
