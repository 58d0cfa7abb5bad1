from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from frontdesk.accounts.roles import TWO_FACTOR_ROLES, Role
from frontdesk.clinic.models import Clinic, Location


class User(AbstractUser):
    """A member of staff. Patients never have accounts; they use signed links."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff", null=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    # Where they usually work; optional (staff of a one-site clinic, or who move between sites).
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, related_name="staff", null=True, blank=True
    )
    # Set with a temporary password from an administrator: the member of staff sees nothing but
    # the change-password page until they choose their own (PasswordChangeRequiredMiddleware).
    must_change_password = models.BooleanField(default=False)
    # Locked by an administrator (a lost badge, a suspected breach): the account cannot sign in
    # and its sessions end; unlike deactivation (is_active False), it is meant to be lifted.
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    @property
    def needs_two_factor(self) -> bool:
        return self.role in TWO_FACTOR_ROLES

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else ""


class ThrottleKind(models.TextChoices):
    PASSWORD = "password", "Password"
    TWO_STEP = "two_step", "Two-step code"


class ThrottleScope(models.TextChoices):
    # Failures of one username from one network address (devices not known for that username).
    ADDRESS = "address", "From this address"
    # Failures of one username on one browser where that username signed in fully before.
    DEVICE = "device", "On a known device"
    # Two-step codes only: failures of one user from every device not known for them, so a
    # guesser who has the password gains nothing by spreading codes over many addresses.
    NEW_DEVICES = "new_devices", "From any new device"


class SignInThrottle(models.Model):
    """Failed attempts of one username through one door (an address, a known device, …).

    The attempt is counted before the password or code is checked and the row is deleted when
    it succeeds, so parallel guesses cannot slip past the limit. `blocked_until` grows with each
    failure past the threshold (`accounts.throttle.throttle_delay`).
    """

    kind = models.CharField(max_length=10, choices=ThrottleKind.choices)
    scope = models.CharField(max_length=12, choices=ThrottleScope.choices)
    # As typed (case-folded): an unknown username is throttled exactly like a real one.
    username = models.CharField(max_length=150)
    # The address, the known device's id, or empty (NEW_DEVICES).
    source = models.CharField(max_length=64, blank=True)
    # The account the username names, if any (so administrators see only their clinic's).
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, related_name="+")
    address = models.GenericIPAddressField(null=True)
    failures = models.PositiveIntegerField()
    first_failure_at = models.DateTimeField()
    last_failure_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "scope", "username", "source"], name="sign_in_throttle_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(failures__gte=1), name="sign_in_throttle_counts_failures"
            ),
        ]
        indexes = [models.Index(fields=["blocked_until"], name="sign_in_throttle_blocked")]

    def __str__(self) -> str:
        return f"{self.username} ({self.kind}, {self.scope}): {self.failures} failures"


class FailedSignInTally(models.Model):
    """Failed passwords and codes for an account since it last signed in fully: told to the
    user at their next sign-in, and to the administrators once it reaches the alert level."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="failed_sign_ins"
    )
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField()
    last_address = models.GenericIPAddressField(null=True)

    def __str__(self) -> str:
        return f"{self.failures} failed sign-ins for user {self.user_id}"


class SignInAlert(models.Model):
    """Shown to the clinic's administrators: an account had repeated failed sign-ins."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, null=True, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    failures = models.PositiveIntegerField()
    last_address = models.GenericIPAddressField(null=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "-created_at"], name="sign_in_alert_recent")]

    def __str__(self) -> str:
        return f"{self.failures} failed sign-ins for user {self.user_id} at {self.created_at}"


class StaffInvite(models.Model):
    """An administrator's invitation to a new member of staff to set their own password.

    The link carries this row's id, signed for the purpose "staff_invite" (lib/links.py);
    it works once (`used_at`) and until `expires_at`. A new invitation for the same person
    deletes the unused earlier ones, so only the newest link works."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invites")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation {self.pk} for user {self.user_id}"
