"""Sending a 270 and receiving its 271: the CORE real-time client (HTTPS, timeouts, retries)
and the batch file drop. A transport never touches the database."""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from frontdesk.eligibility import envelope as core

RETRY_PAUSE = 0.5  # seconds before the first retry; doubled each time


class NoAnswerError(Exception):
    """The payer did not answer (down, timed out, refused the connection): try again later."""


class RefusedError(Exception):
    """The payer answered, but not with a 271 (an envelope error, the wrong payload type)."""


@dataclass(frozen=True)
class Settings:
    url: str
    sender_id: str
    receiver_id: str
    timeout: float
    retries: int
    username: str = ""
    password: str = ""


@dataclass(frozen=True)
class Reply:
    x12: str
    payload_id: str


def core_send(settings: Settings, *, x12: str, payload_id: str, now: dt.datetime) -> Reply:
    """POST the 270 in a CORE envelope; retry a payer that did not answer, never one that
    refused. The PayloadID is the check's trace, the same on every attempt, so the payer can
    recognise a retry."""
    body = core.envelope_build(
        core.Envelope(
            payload_type=core.REQUEST_TYPE,
            payload_id=payload_id,
            sender_id=settings.sender_id,
            receiver_id=settings.receiver_id,
            payload=x12,
            username=settings.username,
            password=settings.password,
        ),
        response=False,
        now=now,
    )
    if not settings.url.startswith(("https://", "http://")):
        raise RefusedError("The connection's address must start with https://.")
    pause = RETRY_PAUSE
    last = ""
    for attempt in range(settings.retries + 1):
        if attempt:
            time.sleep(pause)
            pause *= 2
        try:
            data = _post(settings, body)
        except NoAnswerError as exc:
            last = str(exc)
            continue
        return _reply(data, payload_id=payload_id)
    raise NoAnswerError(last or "The payer did not answer.")


def _post(settings: Settings, body: bytes) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        settings.url,
        data=body,
        method="POST",
        headers={"Content-Type": core.CONTENT_TYPE},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        data = exc.read()
        if exc.code >= 500 and b"COREEnvelopeRealTimeResponse" not in data:
            raise NoAnswerError(f"The payer's server failed (HTTP {exc.code}).") from None
        return bytes(data)
    except TimeoutError:
        raise NoAnswerError(f"The payer did not answer within {settings.timeout:g} s.") from None
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NoAnswerError(f"The payer could not be reached ({reason}).") from None


def _reply(data: bytes, *, payload_id: str) -> Reply:
    try:
        answer = core.envelope_read(data, response=True)
    except core.EnvelopeError as exc:
        raise RefusedError(str(exc)) from None
    if answer.error_code and answer.error_code != core.SUCCESS:
        raise RefusedError(core.error_words(answer.error_code, answer.error_message))
    if answer.payload_type != core.RESPONSE_TYPE:
        raise RefusedError(
            f"The payer answered with a {answer.payload_type or 'blank'} document, "
            f"not a {core.RESPONSE_TYPE}."
        )
    if answer.payload_id and answer.payload_id != payload_id:
        raise RefusedError("The payer's answer is for another request.")
    return Reply(x12=answer.payload, payload_id=answer.payload_id)


# --- File drop ----------------------------------------------------------------------------------


def file_drop_send(directory: str, *, trace: str, x12: str) -> Path:
    """Write the 270 to `<directory>/outbound/<trace>.x12` (written whole, then renamed, so the
    clearinghouse's pick-up never sees half a file)."""
    outbound = Path(directory) / "outbound"
    outbound.mkdir(parents=True, exist_ok=True)
    target = outbound / f"{trace}.x12"
    partial = outbound / f".{trace}.part"
    partial.write_text(x12, encoding="ascii", errors="replace")
    os.replace(partial, target)
    return target


def file_drop_collect(directory: str) -> list[tuple[Path, str]]:
    """The 271 files waiting in `<directory>/inbound/`, oldest first."""
    inbound = Path(directory) / "inbound"
    if not inbound.is_dir():
        return []
    files = sorted(inbound.glob("*.x12"), key=lambda p: p.stat().st_mtime)
    return [(path, path.read_text(encoding="ascii", errors="replace")) for path in files]
