"""Background tasks (huey), run by `frontdesk worker`."""

from __future__ import annotations

from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task, db_task  # type: ignore[import-untyped]

from frontdesk.messaging.reminders import reminder_deliver, reminders_dispatch_due


@db_task()  # type: ignore[untyped-decorator]
def reminder_send_task(appointment_id: int, rule_id: int) -> str:
    delivery = reminder_deliver(appointment_id=appointment_id, rule_id=rule_id)
    return "taken elsewhere" if delivery is None else str(delivery.status)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def reminders_due_task() -> int:
    """Every minute: queue each reminder that has come due."""
    return reminders_dispatch_due(send=reminder_send_task)
