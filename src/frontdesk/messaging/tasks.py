"""Background tasks (huey), run by `frontdesk worker`."""

from __future__ import annotations

import logging

from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task, db_task  # type: ignore[import-untyped]

from frontdesk.messaging.outbox import outbox_send_due
from frontdesk.messaging.reminders import reminder_claim, reminders_dispatch_due

logger = logging.getLogger(__name__)


@db_task()  # type: ignore[untyped-decorator]
def outbox_send_task() -> int:
    """Send what the outbox holds due now (queued by `outbox_kick` after a change)."""
    return outbox_send_due().sent


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def outbox_every_minute_task() -> int:
    """Every minute: retries that have come due, and messages whose worker stopped mid-send
    (their lease ran out), or whose wake-up was lost."""
    return outbox_send_due().sent


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def reminders_due_task() -> int:
    """Every minute: queue each reminder that has come due in the outbox, then send."""
    queued = reminders_dispatch_due()
    return queued + outbox_send_due().sent


@db_task()  # type: ignore[untyped-decorator]
def reminder_send_task(appointment_id: int, rule_id: int) -> str:
    """Kept for tasks queued before reminders went through the outbox: queue it there."""
    delivery = reminder_claim(appointment_id=appointment_id, rule_id=rule_id)
    if delivery is None:
        return "taken elsewhere"
    outbox_kick()
    return str(delivery.status)


def outbox_kick() -> None:
    """Ask the worker to send what is due now rather than at its next minute. Call it after
    the transaction that wrote the messages; if the queue cannot take the request, the
    every-minute run sends them anyway."""
    try:
        outbox_send_task()
    except Exception:
        logger.exception("the outbox could not be woken; its every-minute run will send")
