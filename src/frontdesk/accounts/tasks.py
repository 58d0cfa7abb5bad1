"""Background tasks of staff accounts (huey), run by `frontdesk worker`."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task  # type: ignore[import-untyped]

from frontdesk.accounts.services import sign_in_throttles_forget


def sessions_clear_expired() -> int:
    """Delete the sessions past their expiry (Django's `clearsessions`); returns how many."""
    expired = Session.objects.filter(expire_date__lt=timezone.now()).count()
    SessionStore.clear_expired()
    return expired


@db_periodic_task(crontab(minute="7"))  # type: ignore[untyped-decorator]
def sessions_clear_expired_task() -> int:
    """Every hour: sessions that have expired leave the session table."""
    return sessions_clear_expired()


@db_periodic_task(crontab(minute="37"))  # type: ignore[untyped-decorator]
def sign_in_throttles_forget_task() -> int:
    """Every hour: sign-in throttles a day without failures leave the table."""
    return sign_in_throttles_forget()
