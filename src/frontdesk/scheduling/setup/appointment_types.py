"""Appointment types: saved with the providers who may see them, deleted only while unused."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.scheduling.models import (
    Appointment,
    Block,
)
from frontdesk.scheduling.setup.refusals import SetupRefusedError


@transaction.atomic
def appointment_type_save(
    *,
    context: AuditContext,
    appointment_type: AppointmentType,
    allowed_providers: Sequence[Provider],
    changed: Sequence[str] = (),
) -> AppointmentType:
    """Add or change an appointment type of the clinic."""
    is_new = appointment_type.pk is None
    taken = AppointmentType.objects.filter(
        clinic_id=appointment_type.clinic_id, name__iexact=appointment_type.name
    ).exclude(pk=appointment_type.pk)
    if taken.exists():
        raise SetupRefusedError(
            "There is already an appointment type with that name.", field="name"
        )
    try:
        with transaction.atomic():
            appointment_type.save()
    except IntegrityError:
        raise SetupRefusedError(
            "There is already an appointment type with that name.", field="name"
        ) from None
    appointment_type.allowed_providers.set(allowed_providers)
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        object_type=AuditObject.APPOINTMENT_TYPE,
        object_id=appointment_type.pk,
        detail={"name": appointment_type.name, "changed": sorted(changed)},
    )
    return appointment_type


@transaction.atomic
def appointment_type_delete(*, context: AuditContext, appointment_type: AppointmentType) -> None:
    """Delete a type nobody has used; a type in use is refused (its history must stay)."""
    kind = AppointmentType.objects.select_for_update().get(pk=appointment_type.pk)
    booked = Appointment.objects.filter(appointment_type=kind).count()
    if booked:
        raise SetupRefusedError(
            f"{kind.name} cannot be deleted: {booked} appointment(s) use it, and their history "
            f"must keep its name. Rename it instead if it is no longer offered as it was."
        )
    held = Block.objects.filter(appointment_types=kind, end__gt=timezone.now()).count()
    if held:
        raise SetupRefusedError(
            f"{kind.name} cannot be deleted: {held} reserved block(s) still hold time for it. "
            f"Delete those blocks first."
        )
    name, pk = kind.name, kind.pk
    try:
        with transaction.atomic():
            kind.delete()
    except IntegrityError:
        # An appointment of this type was booked a moment ago; the database keeps the link.
        raise SetupRefusedError(f"{name} cannot be deleted: it has just been booked.") from None
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.APPOINTMENT_TYPE,
        object_id=pk,
        detail={"deleted": name},
    )
