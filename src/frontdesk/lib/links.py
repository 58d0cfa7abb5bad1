"""Signed, expiring tokens for links sent to patients (confirm, cancel, accept an offer) and
to new staff (an invitation).

A token carries one object id, signed with SECRET_KEY and a salt per purpose, so a token made
for one purpose is refused for any other. Expired and tampered tokens raise distinct errors so a
page can tell the patient which one happened; neither ever performs an action.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing

# Named after the module's first home: changing it would void every link already sent.
_SALT_PREFIX = "frontdesk.messaging.links:"


class LinkError(Exception):
    """The link cannot be used."""


class LinkExpiredError(LinkError):
    """The link was genuine but is older than its maximum age."""


class LinkInvalidError(LinkError):
    """The link was altered, truncated, or made for another purpose."""


def _salt(purpose: str) -> str:
    if not purpose or ":" in purpose:
        raise ValueError("A link purpose is a short name without colons, e.g. 'appointment'.")
    return _SALT_PREFIX + purpose


def make_token(purpose: str, obj_id: int) -> str:
    """A URL-safe token for `obj_id`, valid only for `purpose`."""
    return signing.dumps(int(obj_id), salt=_salt(purpose), compress=False)


def read_token(purpose: str, token: str, max_age: int | dt.timedelta | None = None) -> int:
    """The object id inside `token`; `max_age` (seconds or a timedelta) defaults to
    settings.PATIENT_LINK_MAX_AGE. Raises LinkExpiredError or LinkInvalidError."""
    age = settings.PATIENT_LINK_MAX_AGE if max_age is None else max_age
    try:
        value = signing.loads(token, salt=_salt(purpose), max_age=age)
    except signing.SignatureExpired:
        raise LinkExpiredError("This link has expired.") from None
    except signing.BadSignature:
        raise LinkInvalidError("This link is not valid.") from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise LinkInvalidError("This link is not valid.")
    return value
