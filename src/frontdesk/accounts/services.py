"""Staff accounts and two-factor enrolment."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from frontdesk.accounts.models import (
    FailedSignInTally,
    SignInAlert,
    SignInThrottle,
    StaffInvite,
    ThrottleScope,
    User,
)
from frontdesk.accounts.roles import Role
from frontdesk.accounts.throttle import Door, throttle_delay
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic, Location
from frontdesk.lib.links import LinkExpiredError, LinkInvalidError, make_token, read_token

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
def sign_in_record(*, context: AuditContext) -> None:
    """The member of staff named by `context` is signed in (their password was taken)."""
    audit_record(context=context, action=AuditAction.LOGIN)


@transaction.atomic
def sign_out_record(*, context: AuditContext) -> None:
    """The member of staff named by `context` signs out (recorded before the session ends)."""
    audit_record(context=context, action=AuditAction.LOGOUT)


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
        object_type=AuditObject.STAFF_ACCOUNT,
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
            object_type=AuditObject.SIGN_IN_THROTTLE,
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
            object_type=AuditObject.SIGN_IN_ALERT,
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
        object_type=AuditObject.SIGN_IN_THROTTLE,
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
        object_type=AuditObject.SIGN_IN_ADDRESS,
        object_id=address,
        detail={"event": "unlocked", "address": address, "records": removed},
    )
    return removed


# --- Staff administration (the administrators' /accounts/staff/ pages) --------------------------

# Temporary passwords: 16 characters from an alphabet without look-alikes (0/O, 1/l/I), in
# groups of four so they can be read out; about 80 bits, and Django's validators accept them.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class StaffChangeRefusedError(Exception):
    """A change to an account that must not happen; the message says why, in words."""


def temporary_password_make() -> str:
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def _staff_detail(member: User, event: str, **more: object) -> dict[str, object]:
    # The name and username are written into the event: the trail reads on its own.
    return {
        "event": event,
        "username": member.get_username(),
        "name": member.get_full_name(),
        "role": member.role,
        **more,
    }


def _staff_audit(
    context: AuditContext, member: User, event: str, action: AuditAction, **more: object
) -> None:
    audit_record(
        context=context,
        action=action,
        object_type=AuditObject.STAFF_ACCOUNT,
        object_id=member.pk,
        detail=_staff_detail(member, event, **more),
    )


def staff_sessions_end(*, user: User) -> int:
    """Delete every live session of `user`; returns how many. Sessions are stored signed, not
    indexed by user, so each live one is decoded: a clinic has tens of them, not millions.
    (StaffBackend already refuses a locked or deactivated user's sessions on their next request;
    deleting them means an unlock later does not bring an old session back.)"""
    store = SessionStore()
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = store.decode(session.session_data)
        if data.get(SESSION_KEY) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def _active_admins_locked(clinic_id: int | None) -> list[User]:
    """The clinic's administrators who can sign in, rows locked so that two administrators
    removing each other at once cannot leave the clinic without one."""
    return list(
        User.objects.select_for_update()
        .filter(clinic=clinic_id, role=Role.ADMIN, is_active=True, locked_at__isnull=True)
        .order_by("pk")
    )


def _refuse_removing_last_admin(member: User, what: str) -> None:
    admins = _active_admins_locked(member.clinic_id)
    if [a.pk for a in admins] == [member.pk]:
        raise StaffChangeRefusedError(
            f"{member.get_full_name() or member.get_username()} is the clinic's only active "
            f"administrator: make someone else an administrator before you {what}."
        )


def _refuse_self(actor: User, member: User, what: str) -> None:
    if actor.pk == member.pk:
        raise StaffChangeRefusedError(f"You cannot {what} your own account.")


@transaction.atomic
def staff_add(
    *,
    context: AuditContext,
    clinic: Clinic,
    username: str,
    role: Role,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    location: Location | None = None,
    by_invite: bool = False,
) -> tuple[User, str]:
    """Add a member of staff. Returns them and, to be shown once, either a temporary password
    they must change at their first sign-in, or (`by_invite`) the token of an invitation
    link where they set their own password (the account has no usable password until then)."""
    password = temporary_password_make()
    user = staff_create(
        clinic=clinic,
        username=username,
        password=password,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.location = location
    user.must_change_password = not by_invite
    if by_invite:
        user.set_unusable_password()
    user.save(update_fields=["location", "must_change_password", "password"])
    _staff_audit(
        context,
        user,
        "added",
        AuditAction.CREATE,
        location=location.name if location else "",
        access="invite" if by_invite else "temporary_password",
    )
    return user, _staff_invite_make(user) if by_invite else password


@transaction.atomic
def staff_update(
    *,
    context: AuditContext,
    actor: User,
    member: User,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    location: Location | None,
) -> User:
    """Change a member of staff's name, email, role or location. An administrator cannot
    demote themselves, nor demote the clinic's last active administrator."""
    if member.role == Role.ADMIN and role != Role.ADMIN:
        _refuse_self(actor, member, "take the administrator role from")
        if member.is_active and member.locked_at is None:
            _refuse_removing_last_admin(member, "change their role")
    before = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "role": member.role,
        "location": member.location.name if member.location else "",
    }
    member.first_name, member.last_name, member.email = first_name, last_name, email
    member.role, member.location = role, location
    member.full_clean(exclude=["password", "username"])
    member.save(update_fields=["first_name", "last_name", "email", "role", "location"])
    after = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "role": str(role),
        "location": location.name if location else "",
    }
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    _staff_audit(context, member, "changed", AuditAction.UPDATE, changed=changed)
    return member


@transaction.atomic
def staff_password_reset(*, context: AuditContext, actor: User, member: User) -> str:
    """Give a member of staff a temporary password (returned to be shown once); they must
    change it at their next sign-in. Their sessions end (the password changed)."""
    _refuse_self(actor, member, "reset the password of (use My account to change it)")
    password = temporary_password_make()
    member.set_password(password)
    member.must_change_password = True
    member.save(update_fields=["password", "must_change_password"])
    StaffInvite.objects.filter(user=member, used_at__isnull=True).delete()
    staff_sessions_end(user=member)
    _staff_audit(context, member, "password_reset", AuditAction.UPDATE)
    return password


@transaction.atomic
def staff_two_step_reset(*, context: AuditContext, actor: User, member: User) -> None:
    """Forget a member of staff's authenticator and recovery codes (a lost phone): they set
    two-step sign-in up again at their next sign-in."""
    _refuse_self(actor, member, "reset two-step sign-in for")
    totp, _ = TOTPDevice.objects.filter(user=member).delete()
    static, _ = StaticDevice.objects.filter(user=member).delete()
    _staff_audit(
        context, member, "two_step_reset", AuditAction.UPDATE, devices_removed=totp + static
    )


@transaction.atomic
def staff_lock(*, context: AuditContext, actor: User, member: User) -> None:
    """Lock an account: it cannot sign in, and its sessions end at once."""
    _refuse_self(actor, member, "lock")
    if member.locked_at is not None:
        return
    if member.role == Role.ADMIN and member.is_active:
        _refuse_removing_last_admin(member, "lock them")
    member.locked_at = timezone.now()
    member.save(update_fields=["locked_at"])
    ended = staff_sessions_end(user=member)
    _staff_audit(context, member, "locked", AuditAction.UPDATE, sessions_ended=ended)


@transaction.atomic
def staff_unlock(*, context: AuditContext, actor: User, member: User) -> None:
    """Lift an administrator's lock, and any sign-in throttle on the account (the same as
    Unlock on the sign-in locks page), so they can sign in at once."""
    throttles, _ = SignInThrottle.objects.filter(user=member).delete()
    was_locked = member.locked_at is not None
    member.locked_at = None
    member.save(update_fields=["locked_at"])
    _staff_audit(
        context,
        member,
        "unlocked",
        AuditAction.UPDATE,
        was_locked=was_locked,
        throttles_lifted=throttles,
    )


@transaction.atomic
def staff_deactivate(*, context: AuditContext, actor: User, member: User) -> None:
    """Switch an account off for good (someone left): never deleted, so the audit trail keeps
    their name; it cannot sign in and its sessions end at once."""
    _refuse_self(actor, member, "deactivate")
    if not member.is_active:
        return
    if member.role == Role.ADMIN and member.locked_at is None:
        _refuse_removing_last_admin(member, "deactivate them")
    member.is_active = False
    member.save(update_fields=["is_active"])
    ended = staff_sessions_end(user=member)
    _staff_audit(context, member, "deactivated", AuditAction.UPDATE, sessions_ended=ended)


@transaction.atomic
def staff_reactivate(*, context: AuditContext, actor: User, member: User) -> None:
    """Switch a deactivated account back on (someone came back)."""
    if member.is_active:
        return
    member.is_active = True
    member.save(update_fields=["is_active"])
    _staff_audit(context, member, "reactivated", AuditAction.UPDATE)


STAFF_INVITE_PURPOSE = "staff_invite"


def _staff_invite_make(user: User) -> str:
    # Only the newest invitation works: an earlier link, perhaps sent to a wrong address, dies.
    StaffInvite.objects.filter(user=user, used_at__isnull=True).delete()
    now = timezone.now()
    invite = StaffInvite.objects.create(
        user=user, created_at=now, expires_at=now + settings.STAFF_INVITE_MAX_AGE
    )
    return make_token(STAFF_INVITE_PURPOSE, invite.pk)


@transaction.atomic
def staff_invite_renew(*, context: AuditContext, actor: User, member: User) -> str:
    """A new invitation link for a member of staff who has not set a password yet (the last
    one expired or went astray); returns its token, to be shown once."""
    if member.has_usable_password():
        raise StaffChangeRefusedError(
            f"{member.get_full_name() or member.get_username()} has a password already: "
            "reset it instead."
        )
    token = _staff_invite_make(member)
    _staff_audit(context, member, "invited", AuditAction.UPDATE)
    return token


def staff_invite_open(*, token: str) -> StaffInvite:
    """The invitation a link names, if it can still be used. Raises LinkExpiredError or
    LinkInvalidError (also for a used, replaced or revoked one, or a switched-off account)."""
    invite_id = read_token(STAFF_INVITE_PURPOSE, token, max_age=settings.STAFF_INVITE_MAX_AGE)
    invite = (
        StaffInvite.objects.select_related("user")
        .filter(pk=invite_id, used_at__isnull=True)
        .first()
    )
    if invite is None or not invite.user.is_active or invite.user.locked_at is not None:
        raise LinkInvalidError("This invitation has been used or replaced.")
    if invite.expires_at <= timezone.now():
        raise LinkExpiredError("This invitation has expired.")
    return invite


@transaction.atomic
def staff_invite_accept(*, context: AuditContext, invite: StaffInvite, password: str) -> User:
    """The invited member of staff set their password (validated by the form): the link is
    spent. Used once even when two tabs submit at the same time (the row is locked)."""
    locked = StaffInvite.objects.select_for_update().filter(pk=invite.pk, used_at__isnull=True)
    if not locked.exists():
        raise LinkInvalidError("This invitation has been used or replaced.")
    locked.update(used_at=timezone.now())
    user = invite.user
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    _staff_audit(context, user, "invite_accepted", AuditAction.UPDATE)
    return user
