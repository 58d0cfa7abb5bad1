"""Staff accounts and two-factor enrolment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from frontdesk.accounts.models import (
    FailedSignInTally,
    SignInAlert,
    SignInThrottle,
    ThrottleScope,
    User,
)
from frontdesk.accounts.roles import Role
from frontdesk.accounts.throttle import Door, throttle_delay
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic

RECOVERY_CODE_COUNT = 10


@transaction.atomic
def staff_create(
    *,
    clinic: Clinic,
    username: str,
    password: str,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a member of staff with a role; the password is hashed with Argon2."""
    user = User(
        clinic=clinic,
        username=username,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def password_change(*, context: AuditContext, user: User, password: str) -> None:
    """The member of staff chose a new password (validated by the form): a temporary one
    given by an administrator no longer has to be changed."""
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="staff_account",
        object_id=user.pk,
        detail={"event": "password_changed", "username": user.get_username()},
    )


def two_factor_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def two_factor_has_device(*, user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


@transaction.atomic
def two_factor_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending authenticator with a code from it; returns fresh recovery codes."""
    device = two_factor_device_pending(user=user)
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's recovery codes; each works once, in place of an authenticator code."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# --- Sign-in throttling (accounts/throttle.py explains the design) ------------------------------


def _user_named(username: str) -> User | None:
    return User.objects.filter(username__iexact=username).order_by("pk").first()


def _throttle_locked(door: Door, scope: ThrottleScope, source: str) -> SignInThrottle | None:
    return (
        SignInThrottle.objects.select_for_update()
        .filter(kind=door.kind, scope=scope, username=door.username, source=source)
        .first()
    )


def _throttle_count(door: Door, scope: ThrottleScope, source: str, now: dt.datetime) -> None:
    row = _throttle_locked(door, scope, source)
    if row is None:
        try:
            with transaction.atomic():
                SignInThrottle.objects.create(
                    kind=door.kind,
                    scope=scope,
                    username=door.username,
                    source=source,
                    user=_user_named(door.username),
                    address=door.address,
                    failures=1,
                    first_failure_at=now,
                    last_failure_at=now,
                    blocked_until=_until(1, now),
                )
            return
        except IntegrityError:  # a parallel attempt made the row first: count on it
            row = SignInThrottle.objects.select_for_update().get(
                kind=door.kind, scope=scope, username=door.username, source=source
            )
    if row.last_failure_at < now - settings.SIGN_IN_FAILURES_FORGOTTEN_AFTER:
        row.failures, row.first_failure_at = 0, now
    row.failures += 1
    row.last_failure_at = now
    row.address = door.address
    row.blocked_until = _until(row.failures, now)
    row.save()


def _until(failures: int, now: dt.datetime) -> dt.datetime | None:
    delay = throttle_delay(failures)
    return now + delay if delay is not None else None


@transaction.atomic
def sign_in_attempt_start(*, door: Door) -> dt.datetime | None:
    """Count an attempt through `door` before its password or code is checked, so parallel
    guesses cannot slip past the limit; a success then forgets it (`sign_in_attempt_succeeded`).
    Returns when to come back instead if the door is shut (nothing is counted then)."""
    now = timezone.now()
    rows = [_throttle_locked(door, scope, source) for scope, source in door.counters()]
    shut = [r.blocked_until for r in rows if r and r.blocked_until and r.blocked_until > now]
    if shut:
        return max(shut)
    for scope, source in door.counters():
        _throttle_count(door, scope, source, now)
    return None


def _door_rows(door: Door) -> Q:
    rows = Q(pk__in=[])
    for scope, source in door.counters():
        rows |= Q(scope=scope, source=source)
    return rows


@transaction.atomic
def sign_in_attempt_succeeded(*, door: Door) -> None:
    """The password or code was right: the door's failures are forgotten (other doors' stay)."""
    SignInThrottle.objects.filter(_door_rows(door), kind=door.kind, username=door.username).delete()


@transaction.atomic
def sign_in_attempt_failed(*, context: AuditContext, door: Door) -> dt.datetime | None:
    """The password or code was wrong (already counted by `sign_in_attempt_start`). Audits a
    door that has just shut, and tallies the failure for the account the username names,
    alerting the clinic's administrators when the tally reaches SIGN_IN_ALERT_AFTER. Returns
    when the door opens again if this failure shut it."""
    now = timezone.now()
    rows = list(
        SignInThrottle.objects.filter(
            _door_rows(door), kind=door.kind, username=door.username, blocked_until__gt=now
        )
    )
    # Only the failure that shuts a door is audited: one event per failure would let anyone
    # flood the audit trail (and contend its chain) from the sign-in page.
    for row in rows:
        if row.failures != settings.SIGN_IN_DELAY_AFTER:
            continue
        audit_record(
            context=context,
            action=AuditAction.SYSTEM,
            object_type="sign_in_throttle",
            object_id=row.pk,
            detail={
                "event": "throttled",
                "kind": row.kind,
                "scope": row.scope,
                "username": row.username,
                "address": row.address,
                "failures": row.failures,
                "until": row.blocked_until.isoformat() if row.blocked_until else None,
            },
        )
    _failure_tally(context=context, door=door, now=now)
    return max((row.blocked_until for row in rows if row.blocked_until), default=None)


def _failure_tally(*, context: AuditContext, door: Door, now: dt.datetime) -> None:
    user = _user_named(door.username)
    if user is None:
        return
    tally, _ = FailedSignInTally.objects.select_for_update().get_or_create(
        user=user, defaults={"last_failure_at": now}
    )
    tally.failures += 1
    tally.last_failure_at = now
    tally.last_address = door.address
    tally.save()
    if tally.failures == settings.SIGN_IN_ALERT_AFTER:
        alert = SignInAlert.objects.create(
            clinic_id=user.clinic_id,
            user=user,
            created_at=now,
            failures=tally.failures,
            last_address=door.address,
        )
        audit_record(
            context=context,
            action=AuditAction.SYSTEM,
            object_type="sign_in_alert",
            object_id=alert.pk,
            detail={"event": "repeated_failures", "username": user.get_username()},
            high_priority=True,
        )


@dataclass(frozen=True)
class FailedSignIns:
    failures: int
    last_at: dt.datetime
    last_address: str | None


@transaction.atomic
def sign_in_completed(*, user: User) -> FailedSignIns | None:
    """The user signed in fully: returns the failed attempts since their last sign-in to tell
    them about (when there were SIGN_IN_ALERT_AFTER or more), and starts the tally afresh."""
    tally = FailedSignInTally.objects.select_for_update().filter(user=user).first()
    if tally is None:
        return None
    tally.delete()
    if tally.failures < settings.SIGN_IN_ALERT_AFTER:
        return None
    return FailedSignIns(tally.failures, tally.last_failure_at, tally.last_address)


@transaction.atomic
def sign_in_throttles_forget() -> int:
    """Delete doors whose failures are forgotten (none for SIGN_IN_FAILURES_FORGOTTEN_AFTER)
    and which shut nothing any more; returns how many. Guessed usernames leave such rows."""
    now = timezone.now()
    deleted, _ = (
        SignInThrottle.objects.filter(
            last_failure_at__lt=now - settings.SIGN_IN_FAILURES_FORGOTTEN_AFTER
        )
        .exclude(blocked_until__gt=now)
        .delete()
    )
    return deleted


@transaction.atomic
def sign_in_throttle_unlock(*, context: AuditContext, throttle: SignInThrottle) -> None:
    """An administrator opens a shut door at once (its failures are forgotten)."""
    SignInThrottle.objects.filter(pk=throttle.pk).delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="sign_in_throttle",
        object_id=throttle.pk,
        detail={
            "event": "unlocked",
            "kind": throttle.kind,
            "scope": throttle.scope,
            "username": throttle.username,
            "address": throttle.address,
            "failures": throttle.failures,
        },
    )


@transaction.atomic
def sign_in_address_unlock(*, context: AuditContext, address: str) -> int:
    """An administrator lifts the per-address limit (django-axes' records of the address)."""
    removed = int(axes_reset(ip=address))
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="sign_in_address",
        object_id=address,
        detail={"event": "unlocked", "address": address, "records": removed},
    )
    return removed
