"""Background tasks of the patient flow (huey), run by `frontdesk worker`."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task  # type: ignore[import-untyped]

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow.closing import flow_close_past_days
from frontdesk.flow.emergency import emergency_alerts_escalate


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]
def flow_close_past_days_task() -> int:
    """Every quarter hour: a day that has ended with patients still in the queue is closed
    (they are flagged for a supervisor) and overdue bookings become no-shows."""
    return len(flow_close_past_days(context=SYSTEM_CONTEXT, now=timezone.now()).flagged)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def emergency_alerts_escalate_task() -> int:
    """Every minute: an emergency no nurse or physician acknowledged within
    EMERGENCY_ESCALATE_MINUTES is escalated to the supervisor (once)."""
    return emergency_alerts_escalate(context=SYSTEM_CONTEXT, now=timezone.now())
