"""Eligibility's background tasks (huey), run by `frontdesk worker`."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task, db_task  # type: ignore[import-untyped]

from frontdesk.clinic.models import Clinic
from frontdesk.eligibility.answers import eligibility_files_collect
from frontdesk.eligibility.queueing import eligibility_batch_queue
from frontdesk.eligibility.sending import eligibility_send_due

logger = logging.getLogger(__name__)


@db_task()  # type: ignore[untyped-decorator]
def eligibility_send_task() -> int:
    """Send the checks due now (queued by `eligibility_kick` after the change that asked)."""
    return eligibility_send_due(now=timezone.now()).sent


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def eligibility_every_minute_task() -> int:
    """Every minute: retries come due, checks whose sender stopped (their lease ran out), and
    271 files dropped by a batch clearinghouse."""
    eligibility_files_collect(now=timezone.now())
    return eligibility_send_due(now=timezone.now()).sent


@db_periodic_task(crontab(minute="0", hour=str(settings.ELIGIBILITY_BATCH_HOUR)))  # type: ignore[untyped-decorator]
def eligibility_nightly_task() -> int:
    """Each night: a check for the next two business days' visits, then send them."""
    now = timezone.now()
    queued = sum(eligibility_batch_queue(clinic=c, now=now) for c in Clinic.objects.all())
    eligibility_send_due(now=now, limit=None)
    return queued


def eligibility_kick() -> None:
    """Ask the worker to send what is due now rather than at its next minute; call it after
    the transaction that queued the checks. If the queue cannot take the request, the
    every-minute run sends them anyway."""
    try:
        eligibility_send_task()
    except Exception:
        logger.exception("eligibility: the worker could not be woken; its next minute sends")
