"""The desk queue's change counter: every service that opens, changes or closes work on the desk
calls `desk_changed` inside its own transaction."""

from __future__ import annotations

from django.db.models import F

from frontdesk.desk.models import DeskVersion


def desk_version(clinic_id: int) -> int:
    return (
        DeskVersion.objects.filter(clinic_id=clinic_id).values_list("version", flat=True).first()
        or 0
    )


def desk_changed(clinic_id: int) -> int:
    """Raise the clinic's desk version; call inside the transaction that made the change."""
    if not DeskVersion.objects.filter(clinic_id=clinic_id).update(version=F("version") + 1):
        DeskVersion.objects.bulk_create(
            [DeskVersion(clinic_id=clinic_id, version=0)], ignore_conflicts=True
        )
        DeskVersion.objects.filter(clinic_id=clinic_id).update(version=F("version") + 1)
    return desk_version(clinic_id)
