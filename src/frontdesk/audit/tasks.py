"""Background tasks of the audit trail (huey), run by `frontdesk worker`."""

from __future__ import annotations

from django.conf import settings
from huey import crontab  # type: ignore[import-untyped]
from huey.contrib.djhuey import db_periodic_task  # type: ignore[import-untyped]

from frontdesk.audit.checkpoints import audit_checkpoint_write


@db_periodic_task(crontab(minute=f"*/{settings.AUDIT_CHECKPOINT_MINUTES}"))  # type: ignore[untyped-decorator]
def audit_checkpoint_task() -> int:
    """Every AUDIT_CHECKPOINT_MINUTES (5): the chain's tip, signed, to the checkpoint targets, so
    events removed from the end before it was written are named by `audit verify`."""
    seq, _ = audit_checkpoint_write()
    return seq
