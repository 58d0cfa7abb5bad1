"""Background tasks of the schedule (huey), run by `frontdesk worker`."""

from __future__ import annotations

from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task, db_task  # type: ignore[import-untyped]

from frontdesk.scheduling.waitlist import notices, offers


@db_task()  # type: ignore[untyped-decorator]
def waitlist_messages_task(offer_ids: list[int], kind: str) -> int:
    """Kept for tasks queued before waitlist messages went through the outbox: queue the
    offers ("offer") or "that time is gone" notes ("gone") there."""
    return notices.waitlist_messages_send(offer_ids=offer_ids, kind=kind)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def waitlist_offers_expire_task() -> int:
    """Every minute: close offers whose link ran out and offer their time to the next."""
    return offers.waitlist_offers_expire()
