"""The demo staff's credentials: passwords made with `secrets`, and the file that lists them,
readable by its owner only."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.demo.data import DEMO_STAFF


@dataclass(frozen=True)
class StaffLogin:
    role: str
    username: str
    password: str

    @property
    def line(self) -> str:
        return f"{self.role} {self.username} {self.password}"


def password_new(user: User | None = None) -> str:
    while True:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        if password.startswith("-"):  # pasted after a command, it would read as an option
            continue
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password


def demo_credentials_write(*, path: Path, logins: Sequence[StaffLogin]) -> None:
    """Write `role username password` lines to a file only its owner may read (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # os.open's mode applies only to a new file; an old one may have been more open.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(f"{login.line}\n" for login in logins)


@transaction.atomic
def demo_credentials_reset(*, clinic: Clinic) -> tuple[StaffLogin, ...]:
    """New passwords for the demo's staff in this clinic (for a lost credentials file)."""
    users = {
        user.username: user
        for user in User.objects.filter(clinic=clinic, username__in=[u for _, u in DEMO_STAFF])
    }
    logins = []
    for role, username in DEMO_STAFF:
        user = users.get(username)
        if user is None:
            continue
        password = password_new(user)
        user.set_password(password)
        user.save(update_fields=["password"])
        logins.append(StaffLogin(role.value, username, password))
    audit_record(
        context=SYSTEM_CONTEXT,
        action=AuditAction.SYSTEM,
        object_type=AuditObject.CLINIC,
        object_id=clinic.pk,
        detail={"demo_credentials_reset": [login.username for login in logins]},
    )
    return tuple(logins)
