from __future__ import annotations

from django.db.models import QuerySet

from frontdesk.audit.models import AuditEvent, AuditObject


def audit_events_for_patient(*, clinic_id: int, patient_id: int) -> QuerySet[AuditEvent]:
    """Every event that touched this patient, newest first (one indexed lookup)."""
    return (
        AuditEvent.objects.filter(
            clinic_id_value=clinic_id, patient_links__patient_id_value=patient_id
        )
        # An export's event lists every patient it named (tens of thousands); the page shows
        # who, when and why, never the list.
        .defer("patient_ids")
        .order_by("-seq")
    )


def audit_recent_patient_ids(*, actor_id: int, limit: int = 10) -> list[int]:
    """The patients this person opened most recently (for their start page)."""
    seen: list[int] = []
    rows = (
        AuditEvent.objects.filter(
            actor_id_value=actor_id, action="view", object_type=AuditObject.PATIENT
        )
        .order_by("-seq")
        .values_list("patient_ids", flat=True)[:100]
    )
    for ids in rows:
        for pk in ids:
            if pk not in seen:
                seen.append(pk)
        if len(seen) >= limit:
            break
    return seen[:limit]
