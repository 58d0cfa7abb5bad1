"""The keys that sign the audit chain and its checkpoints.

The key is held outside the database (AUDIT_HMAC_KEY, or the file AUDIT_HMAC_KEY_FILE, generated
once like SECRET_KEY's), so someone who can rewrite the audit tables cannot recompute the
signatures. Each event names its key by id (a prefix of the key's SHA-256, never the key); keys
retired by a rotation stay available for verification through AUDIT_HMAC_OLD_KEYS or the file
AUDIT_HMAC_OLD_KEYS_FILE (one key a line).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from frontdesk.audit.config import audit_key_check

KEY_ID_LENGTH = 16


class AuditKeyUnavailableError(ImproperlyConfigured):
    """The chain is signed with a key this process does not hold (a rotation it missed)."""


def audit_key_id(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_text(cls, text: str) -> AuditKey:
        secret = text.strip().encode()
        return cls(audit_key_id(secret), secret)

    def sign(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditKeyring:
    """The key new events are signed with, and every key verification may meet, by id."""

    current: AuditKey
    by_id: dict[str, AuditKey]

    @classmethod
    def of(cls, current: AuditKey, old: list[AuditKey]) -> AuditKeyring:
        by_id = {key.key_id: key for key in old}
        by_id[current.key_id] = current
        return cls(current, by_id)


_lock = threading.Lock()
_cached: AuditKeyring | None = None


def audit_keyring(*, reload: bool = False) -> AuditKeyring:
    """The configured keys, read once per process (and again on `reload`, after a rotation)."""
    global _cached
    keyring = _cached
    if keyring is None or reload:
        with _lock:
            keyring = _load()
            _cached = keyring
    return keyring


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    global _cached
    if setting.startswith("AUDIT_HMAC_"):
        _cached = None


def _load() -> AuditKeyring:
    configured: str = settings.AUDIT_HMAC_KEY
    if configured:
        current = AuditKey.from_text(audit_key_check("AUDIT_HMAC_KEY", configured))
    else:
        current = AuditKey.from_text(_key_file_read_or_create(Path(settings.AUDIT_HMAC_KEY_FILE)))
    old = [
        AuditKey.from_text(audit_key_check("AUDIT_HMAC_OLD_KEYS", text))
        for text in settings.AUDIT_HMAC_OLD_KEYS
    ]
    old_file = Path(settings.AUDIT_HMAC_OLD_KEYS_FILE)
    if old_file.exists():
        for number, line in enumerate(old_file.read_text().splitlines(), start=1):
            if line.strip():
                text = audit_key_check(
                    f"AUDIT_HMAC_OLD_KEYS_FILE ({old_file}, line {number})", line
                )
                old.append(AuditKey.from_text(text))
    return AuditKeyring.of(current, old)


def _key_file_read_or_create(path: Path) -> str:
    if not path.exists():
        # Written aside and linked into place: of two processes starting together, one key wins
        # and both read it, instead of each signing with a key of its own.
        _write_private(path, secrets.token_hex(32), replace=False)
    return audit_key_check(f"AUDIT_HMAC_KEY_FILE ({path})", path.read_text().strip())


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # Another process created it first: keep theirs.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def audit_key_file_rotate() -> tuple[AuditKey, AuditKey]:
    """Retire the key in AUDIT_HMAC_KEY_FILE to AUDIT_HMAC_OLD_KEYS_FILE and put a new one in its
    place; returns (old, new). The caller records the rotation in the chain."""
    if settings.AUDIT_HMAC_KEY:
        raise ImproperlyConfigured(
            "The audit key comes from AUDIT_HMAC_KEY, so it cannot be replaced here: add the "
            "current key to AUDIT_HMAC_OLD_KEYS, set AUDIT_HMAC_KEY to a new one and restart "
            "(docs/operations.md, rotating the audit key)."
        )
    keyring = audit_keyring(reload=True)
    old = keyring.current
    old_file = Path(settings.AUDIT_HMAC_OLD_KEYS_FILE)
    # The old key is kept before the new one replaces it, so a crash in between loses no key.
    kept = old_file.read_text() if old_file.exists() else ""
    if kept and not kept.endswith("\n"):
        kept += "\n"
    _write_private(old_file, kept + old.secret.decode(), replace=True)
    new_text = secrets.token_hex(32)
    _write_private(Path(settings.AUDIT_HMAC_KEY_FILE), new_text, replace=True)
    return old, AuditKey.from_text(new_text)
