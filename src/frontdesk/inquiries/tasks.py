"""Background task of calls and questions (huey), run by `frontdesk worker`."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task  # type: ignore[import-untyped]

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.services import questions_escalate_overdue


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def questions_escalate_overdue_task() -> int:
    """Every minute: medical questions past their deadline are recorded as escalated to the
    supervisors (the desk queue shows them there from the deadline on)."""
    return questions_escalate_overdue(context=SYSTEM_CONTEXT, now=timezone.now())
