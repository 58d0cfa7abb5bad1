"""Sign-in throttling helpers: the progressive delay, known devices, the client's address.

Following OWASP's authentication cheat sheet, failures slow down the door they come through
rather than lock the account: a username is throttled per address (or per known device) with a
delay that doubles, so an attacker elsewhere cannot keep its owner out. django-axes keeps the
hard limit per address across usernames (settings: AXES_*), which stops username cycling; a
browser where the username signed in fully before (a known device, a signed cookie) is exempt
from that limit and counts its own failures instead, so one attacker behind the clinic's shared
address cannot lock every desk out.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from frontdesk.accounts.models import ThrottleKind, ThrottleScope

KNOWN_DEVICE_COOKIE = "frontdesk_device"
_KNOWN_DEVICE_SALT = "frontdesk.accounts.known-device"
# A shared desk computer remembers this many accounts; the least recent is forgotten first.
_KNOWN_DEVICE_USERS = 20


def throttle_delay(failures: int) -> dt.timedelta | None:
    """How long a door stays shut after `failures` failures in a row: none below the threshold,
    then the first delay, doubling with each further failure up to the maximum."""
    threshold: int = settings.SIGN_IN_DELAY_AFTER
    if failures < threshold:
        return None
    first: dt.timedelta = settings.SIGN_IN_FIRST_DELAY
    longest: dt.timedelta = settings.SIGN_IN_LONGEST_DELAY
    # Capped before multiplying, so a huge failure count cannot overflow the timedelta.
    doublings = min(failures - threshold, 32)
    delay: dt.timedelta = min(first * 2**doublings, longest)
    return delay


def wait_words(until: dt.datetime, now: dt.datetime | None = None) -> str:
    """'1 minute', '12 minutes', '2 hours': the wait, rounded up, in words."""
    seconds = max((until - (now or timezone.now())).total_seconds(), 1)
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def too_many_attempts_message(until: dt.datetime) -> str:
    return f"Too many attempts: try again in {wait_words(until)}."


def client_address(request: HttpRequest) -> str | None:
    """The address django-axes counts, so both throttles agree on who is who."""
    address = get_client_ip_address(request)
    return str(address) if address else None


def address_valid(text: str) -> bool:
    try:
        validate_ipv46_address(text)
    except ValidationError:
        return False
    return True


def username_key(username: str) -> str:
    """Usernames as throttled: case-folded, so 'Alice' and 'alice' share one counter."""
    return username.strip().casefold()[:150]


# --- Known devices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownDevice:
    device_id: str
    # Case-folded username → when it last signed in fully here (Unix seconds).
    users: dict[str, int]


def _known_device_read(request: HttpRequest) -> KnownDevice | None:
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return None
    max_age: dt.timedelta = settings.KNOWN_DEVICE_MAX_AGE
    try:
        value: Any = signing.loads(raw, salt=_KNOWN_DEVICE_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict):
        return None
    device_id, users = value.get("d"), value.get("u")
    if not isinstance(device_id, str) or not isinstance(users, dict):
        return None
    oldest = timezone.now().timestamp() - max_age.total_seconds()
    fresh = {
        str(name): int(at)
        for name, at in users.items()
        if isinstance(at, int | float) and at >= oldest
    }
    return KnownDevice(device_id, fresh)


def known_device_for(request: HttpRequest, username: str) -> str | None:
    """The id of this browser if `username` signed in fully on it recently, else None."""
    device = _known_device_read(request)
    if device is None or username_key(username) not in device.users:
        return None
    return device.device_id


def known_device_remember(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """After a full sign-in (password, and the code where the role needs one): this browser
    becomes a known device for the username, for KNOWN_DEVICE_MAX_AGE."""
    device = _known_device_read(request)
    device_id = device.device_id if device else secrets.token_urlsafe(16)
    users = dict(device.users) if device else {}
    users[username_key(username)] = int(timezone.now().timestamp())
    kept = dict(sorted(users.items(), key=lambda item: item[1])[-_KNOWN_DEVICE_USERS:])
    max_age: dt.timedelta = settings.KNOWN_DEVICE_MAX_AGE
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        signing.dumps({"d": device_id, "u": kept}, salt=_KNOWN_DEVICE_SALT, compress=True),
        max_age=int(max_age.total_seconds()),
        # Read only by the sign-in and two-step pages; never by scripts.
        path="/accounts/",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def axes_known_device(request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
    """AXES_WHITELIST_CALLABLE: a known device for the username typed is exempt from the
    per-address limit (its failures count on its own throttle instead)."""
    username = (credentials or {}).get("username") or request.POST.get("username") or ""
    return bool(username) and known_device_for(request, str(username)) is not None


@dataclass(frozen=True)
class Door:
    """The counters one attempt is counted on."""

    kind: ThrottleKind
    username: str
    address: str | None
    device_id: str | None

    def counters(self) -> list[tuple[ThrottleScope, str]]:
        if self.device_id is not None:
            return [(ThrottleScope.DEVICE, self.device_id)]
        keys = [(ThrottleScope.ADDRESS, self.address or "")]
        if self.kind == ThrottleKind.TWO_STEP:
            keys.append((ThrottleScope.NEW_DEVICES, ""))
        return keys


def door_of(request: HttpRequest, kind: ThrottleKind, username: str) -> Door:
    return Door(
        kind=kind,
        username=username_key(username),
        address=client_address(request),
        device_id=known_device_for(request, username),
    )
