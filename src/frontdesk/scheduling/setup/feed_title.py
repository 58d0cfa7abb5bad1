"""The title visits carry in the providers' calendar feeds."""

from __future__ import annotations

from django.db import transaction

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.scheduling.setup.refusals import SetupRefusedError


@transaction.atomic
def calendar_event_title_save(*, context: AuditContext, clinic: Clinic, title: str) -> Clinic:
    """Set the title every visit has in the clinic's calendar feeds; audited with the old one."""
    title = " ".join(title.split())
    if not title:
        raise SetupRefusedError("Type a title, such as Appointment.", field="title")
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    previous = locked.calendar_event_title
    locked.calendar_event_title = title
    locked.save(update_fields=["calendar_event_title"])
    clinic.calendar_event_title = title
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CALENDAR_EVENT_TITLE,
        object_id=clinic.pk,
        detail={"from": previous, "to": title},
    )
    return clinic
