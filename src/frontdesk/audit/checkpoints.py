"""Checkpoints: the chain's newest sequence number and hash, signed, written outside the database.

The keyed chain stops anyone without the key from rewriting events, but not from deleting the
newest ones and moving the head back: what is left is still a valid chain. A checkpoint line
written every few minutes (by the worker) to a place the database's owner cannot rewrite lets
`audit verify` name such a truncation, and a rewritten history, up to the last checkpoint.

A line is JSON: {"kind", "seq", "hash", "at", "key_id", "mac"}, where mac is HMAC-SHA256 under the
audit key over the other fields, so a checkpoint cannot be forged or edited without the key.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from frontdesk.audit.config import CheckpointTarget
from frontdesk.audit.keys import AuditKey, AuditKeyring, audit_keyring
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import GENESIS_HASH, audit_key_switch

CHECKPOINT_KIND = "frontdesk-audit-checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: str
    key_id: str
    source: str  # where it was read, for messages: "FILE line N"


def _signed_bytes(*, seq: int, head_hash: str, at: str, key_id: str) -> bytes:
    payload = {"kind": CHECKPOINT_KIND, "seq": seq, "hash": head_hash, "at": at, "key_id": key_id}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_line(*, seq: int, head_hash: str, at: dt.datetime, key: AuditKey) -> str:
    """One signed checkpoint, as the line written to each target (without its newline)."""
    when = at.astimezone(dt.UTC).isoformat(timespec="seconds")
    mac = key.sign(_signed_bytes(seq=seq, head_hash=head_hash, at=when, key_id=key.key_id))
    payload = {
        "kind": CHECKPOINT_KIND,
        "seq": seq,
        "hash": head_hash,
        "at": when,
        "key_id": key.key_id,
        "mac": mac,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def checkpoint_write(*, seq: int, head_hash: str, targets: Iterable[CheckpointTarget]) -> str:
    """Sign and write one checkpoint to every target; raises if any target could not take it
    (after trying all of them). Returns the line."""
    line = checkpoint_line(seq=seq, head_hash=head_hash, at=timezone.now(), key=_key())
    failures: list[str] = []
    for target in targets:
        try:
            if target.kind == "file":
                _file_append(Path(target.address), line)
            else:
                _syslog_send(target.address, line)
        except OSError as exc:
            failures.append(f"{target}: {exc}")
    if failures:
        raise OSError("audit checkpoint not written to " + "; ".join(failures))
    return line


def audit_checkpoint_write() -> tuple[int, str]:
    """The worker's job: record the chain's tip (its newest event) at every configured target.

    Hands the chain to the configured key first, if it is not signed with it yet (after an
    upgrade or a key rotation), so the tip checkpointed is a signed one.
    """
    audit_key_switch()
    tip = AuditEvent.objects.order_by("-seq").values_list("seq", "content_hash").first()
    seq, head_hash = tip if tip is not None else (0, GENESIS_HASH)
    checkpoint_write(seq=seq, head_hash=head_hash, targets=settings.AUDIT_CHECKPOINT_TARGETS)
    return seq, head_hash


def _key() -> AuditKey:
    return audit_keyring().current


def _file_append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each line lands at the end even with two writers; fsync: a checkpoint reported
    # written survives a power cut.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _RaisingSysLogHandler(SysLogHandler):
    """logging's handler reports a failed send on stderr and carries on; a checkpoint that did
    not leave the machine must fail the task instead, so the worker's log shows it."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        raise  # emit() calls this inside its except block, so this re-raises the failure


def _syslog_send(address: str, line: str) -> None:
    where: str | tuple[str, int]
    if not address:
        where = "/dev/log"
    elif address.startswith("/"):
        where = address
    else:
        host, _, port = address.rpartition(":")
        where = (host, int(port))
    handler = _RaisingSysLogHandler(address=where, facility=SysLogHandler.LOG_AUTH)
    handler.ident = "frontdesk: "
    try:
        handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
    finally:
        handler.close()


def checkpoint_sources(extra: Sequence[Path] = ()) -> list[Path]:
    """The files `audit verify` reads checkpoints from: each file target, then `extra` (for
    example the lines of a syslog server's archive)."""
    files = [Path(t.address) for t in settings.AUDIT_CHECKPOINT_TARGETS if t.kind == "file"]
    return [*files, *extra]


def checkpoints_read(
    sources: Sequence[Path], keyring: AuditKeyring
) -> tuple[list[Checkpoint], str | None]:
    """Every checkpoint in `sources` whose signature holds, or the first one that does not.

    A line counts as a checkpoint when it holds CHECKPOINT_KIND; the JSON starts at its first
    "{", so lines forwarded through syslog (with their date and host in front) read the same.
    """
    found: list[Checkpoint] = []
    # Nights and weekends repeat the same tip every few minutes: one of each is enough.
    seen: set[tuple[int, str]] = set()
    for path in sources:
        if not path.exists():
            continue
        try:
            # Read line by line: years of checkpoints are tens of megabytes.
            with path.open(encoding="utf-8", errors="replace") as handle:
                for number, text in enumerate(handle, start=1):
                    if CHECKPOINT_KIND not in text:
                        continue
                    where = f"{path} line {number}"
                    checkpoint, problem = _checkpoint_parse(text, where, keyring)
                    if problem is not None:
                        return found, problem
                    if (
                        checkpoint is not None
                        and (checkpoint.seq, checkpoint.head_hash) not in seen
                    ):
                        seen.add((checkpoint.seq, checkpoint.head_hash))
                        found.append(checkpoint)
        except OSError as exc:
            return found, f"checkpoint file {path} cannot be read ({exc.strerror})."
    return found, None


def _checkpoint_parse(
    text: str, where: str, keyring: AuditKeyring
) -> tuple[Checkpoint | None, str | None]:
    try:
        # raw_decode ignores what follows the object (the NUL or newline a syslog server keeps).
        data: Any = json.JSONDecoder().raw_decode(text, text.index("{"))[0]
        seq, head_hash, at, key_id, mac = (
            data["seq"],
            data["hash"],
            data["at"],
            data["key_id"],
            data["mac"],
        )
        if not (isinstance(seq, int) and all(isinstance(v, str) for v in (head_hash, at, mac))):
            raise TypeError("a field has the wrong type")
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"checkpoint {where} cannot be read ({exc}): the file was altered."
    key = keyring.by_id.get(str(key_id))
    if key is None:
        return None, (
            f"checkpoint {where} is signed with key id {key_id}, which is not among the keys "
            "supplied (AUDIT_HMAC_KEY, AUDIT_HMAC_OLD_KEYS, AUDIT_HMAC_OLD_KEYS_FILE)."
        )
    expected = key.sign(_signed_bytes(seq=seq, head_hash=head_hash, at=at, key_id=key.key_id))
    if not hmac.compare_digest(expected, mac):
        return None, f"checkpoint {where} was altered (its signature does not match)."
    return Checkpoint(seq, head_hash, at, key.key_id, where), None
