"""Settings of the audit trail's protection, parsed at start-up (pure: no models).

settings.py calls these so that a short key or a misspelt checkpoint target stops start-up with
a message naming the variable, instead of failing on the first request or checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# HMAC-SHA256 keys shorter than the hash's own output weaken it (RFC 2104, section 3).
KEY_MIN_BYTES = 32


def audit_key_check(name: str, value: str) -> str:
    """`value` unchanged when it is long enough to be a signing key; otherwise stop, naming it."""
    if len(value.encode()) < KEY_MIN_BYTES:
        raise ImproperlyConfigured(
            f"{name} must be at least {KEY_MIN_BYTES} bytes long "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    return value


@dataclass(frozen=True)
class CheckpointTarget:
    """Where checkpoints are written: an append-only file, or syslog (which may forward them).

    `address` is the file's path for "file", and for "syslog" a Unix socket path, a
    "host:port" UDP address, or "" for the local /dev/log.
    """

    kind: str
    address: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.address}"


def parse_checkpoint_targets(name: str, values: list[str]) -> list[CheckpointTarget]:
    """Targets from `file:/path`, `syslog:`, `syslog:/dev/log`, `syslog:host:514` or `none`."""
    if values == ["none"]:
        return []
    targets: list[CheckpointTarget] = []
    for value in values:
        kind, sep, address = value.partition(":")
        if kind == "file" and sep and address:
            if not Path(address).is_absolute():
                raise ImproperlyConfigured(f"{name}: {value!r} must name an absolute path.")
            targets.append(CheckpointTarget("file", address))
        elif kind == "syslog" and sep:
            host, colon, port = address.rpartition(":")
            if address and not address.startswith("/") and not (colon and host and port.isdigit()):
                raise ImproperlyConfigured(
                    f"{name}: {value!r} must be syslog:, syslog:/path/to/socket or "
                    "syslog:host:port."
                )
            targets.append(CheckpointTarget("syslog", address))
        else:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not a checkpoint target; use file:/absolute/path, "
                "syslog: (optionally syslog:/dev/log or syslog:host:port), or none. An object "
                "store is not offered yet: ship the lines off the machine through syslog."
            )
    return targets
