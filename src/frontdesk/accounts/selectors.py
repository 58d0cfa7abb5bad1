"""Reads for the administrators' pages: sign-in locks, and the clinic's staff."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from frontdesk.accounts.models import SignInAlert, SignInThrottle, User


def sign_in_throttles_shut(*, clinic_id: int | None) -> list[SignInThrottle]:
    """Doors shut right now for the clinic's accounts, and for usernames that name no account
    (an attacker guessing names), longest wait first."""
    return list(
        SignInThrottle.objects.filter(blocked_until__gt=timezone.now())
        .filter(Q(user__clinic_id=clinic_id) | Q(user__isnull=True))
        .select_related("user")
        .order_by("-blocked_until", "pk")
    )


def sign_in_throttle_of_clinic(*, clinic_id: int | None, throttle_id: str) -> SignInThrottle | None:
    """One throttle an administrator of the clinic may lift (None if gone or not theirs)."""
    if not (throttle_id.isascii() and throttle_id.isdigit()) or len(throttle_id) > 18:
        return None
    return (
        SignInThrottle.objects.filter(pk=int(throttle_id))
        .filter(Q(user__clinic_id=clinic_id) | Q(user__isnull=True))
        .first()
    )


@dataclass(frozen=True)
class AddressLock:
    address: str
    failures: int
    until: dt.datetime


def sign_in_addresses_shut() -> list[AddressLock]:
    """Addresses past django-axes' per-address limit within its cool-off window."""
    cool_off: dt.timedelta = settings.AXES_COOLOFF_TIME
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("ip_address")
    )
    return [
        AddressLock(str(row["ip_address"]), int(row["failures"]), row["last"] + cool_off)
        for row in rows
    ]


def sign_in_alerts_recent(*, clinic_id: int | None, days: int = 14) -> list[SignInAlert]:
    """Accounts of the clinic with repeated failed sign-ins in the last `days` days."""
    if clinic_id is None:
        return []
    return list(
        SignInAlert.objects.filter(
            clinic_id=clinic_id, created_at__gte=timezone.now() - dt.timedelta(days=days)
        )
        .select_related("user")
        .order_by("-created_at")[:50]
    )


# --- Staff administration ---------------------------------------------------------------------


def staff_list(*, clinic_id: int | None) -> list[User]:
    """The clinic's members of staff, active first, by name, with their location and whether
    two-step sign-in is set up (`has_two_step`), in one query."""
    if clinic_id is None:
        return []
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return list(
        User.objects.filter(clinic_id=clinic_id)
        .select_related("location")
        .annotate(has_two_step=Exists(confirmed))
        .order_by("-is_active", "last_name", "first_name", "username")
    )


def staff_of_clinic(*, clinic_id: int | None, staff_id: int) -> User:
    """One member of the clinic's staff, or 404: another clinic's staff do not exist here."""
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return get_object_or_404(
        User.objects.select_related("location").annotate(has_two_step=Exists(confirmed)),
        pk=staff_id,
        clinic_id=clinic_id,
        clinic_id__isnull=False,
    )
