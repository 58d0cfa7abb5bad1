"""Clinic holidays: the clinic is closed; bookings already made that day stay."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.lib.clinic_time import clinic_zone, day_words, local_midnight
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    ClinicHoliday,
)
from frontdesk.scheduling.setup.refusals import SetupRefusedError


def _holiday_taken(clinic: Clinic, day: dt.date) -> SetupRefusedError | None:
    existing = ClinicHoliday.objects.filter(clinic=clinic, date=day).first()
    if existing is None:
        return None
    return SetupRefusedError(
        f"{day_words(day)} is already a holiday ({existing.name}).", field="date"
    )


@transaction.atomic
def holiday_add(
    *, context: AuditContext, clinic: Clinic, day: dt.date, name: str
) -> tuple[ClinicHoliday, list[str]]:
    """Close the clinic for a day; bookings already made that day are reported, not cancelled."""
    taken = _holiday_taken(clinic, day)
    if taken is not None:
        raise taken
    try:
        with transaction.atomic():
            holiday = ClinicHoliday.objects.create(clinic=clinic, date=day, name=name.strip())
    except IntegrityError:
        raise _holiday_taken(clinic, day) or SetupRefusedError(
            "That day could not be added; try again.", field="date"
        ) from None
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.CLINIC_HOLIDAY,
        object_id=holiday.pk,
        detail={"date": day.isoformat(), "name": holiday.name},
    )
    zone = clinic_zone(clinic)
    start, end = local_midnight(day, zone), local_midnight(day + dt.timedelta(days=1), zone)
    booked = Appointment.objects.filter(
        clinic=clinic, status__in=ACTIVE_STATUSES, start__gte=start, start__lt=end
    ).count()
    if booked:
        return holiday, [
            f"{booked} appointment(s) are booked on {day_words(day)}; they stay booked. Move "
            f"or cancel them from the day view."
        ]
    return holiday, []


@transaction.atomic
def holiday_delete(*, context: AuditContext, holiday: ClinicHoliday) -> None:
    pk, day, name = holiday.pk, holiday.date, holiday.name
    holiday.delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CLINIC_HOLIDAY,
        object_id=pk,
        detail={"deleted": name, "date": day.isoformat()},
    )
