"""Secrets carried in URLs, replaced by a placeholder before anything is logged.

A patient's link holds its credential in the path (`/p/appointment/<token>/` confirms or
cancels a visit for 14 days, `/w/<token>/` takes a waitlist offer; `/accounts/invite/<token>/`
sets a new member of staff's password), and the waiting-room
screen's and calendar feeds' links hold theirs in the query string (`?token=`). Whoever reads
a log line with one can act as the patient. `redact_secrets` is the one place that knows these
shapes: the access log calls it, and `RedactSecretsFilter` (attached in settings.LOGGING to the
console handler and to Django's loggers that write a request's path) applies it to every other
log line, Django's CSRF failures, 404s, 500s and the development server's lines included.
A URL pattern with a `token` parameter must have its prefix here; a test walks the URL
patterns to keep it so.
"""

from __future__ import annotations

import logging
import re

PLACEHOLDER = "<token>"
# Path prefixes whose next segment is a signed credential.
SECRET_PATH_PREFIXES = ("/p/appointment/", "/w/", "/accounts/invite/")

_SECRET_PATH = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in SECRET_PATH_PREFIXES) + r")[^/?#\s\"'<>]+"
)
# `token=` as a query parameter (or form field), written plainly or percent-encoded once.
_SECRET_QUERY = re.compile(r"(?i)((?:^|[?&;\s\"']|%3F|%26)token(?:=|%3D))[^&#\s\"'<>]+")


def redact_secrets(text: str) -> str:
    """`text` with every signed link's token replaced by `<token>`."""
    text = _SECRET_PATH.sub(rf"\1{PLACEHOLDER}", text)
    return _SECRET_QUERY.sub(rf"\1{PLACEHOLDER}", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message (and its traceback text) with `redact_secrets`.

    On a logger, it changes the record itself, so every handler the record reaches sees the
    redacted text; on a handler, it catches records from any logger that reach it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: its handler reports it
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True
