"""Booking a planned series: every free visit through `services.appointment_book` in one
transaction with the series record; a visit lost to a race meanwhile is reported as a conflict."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.patients.models import Patient
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentSeries,
    SeriesVisit,
    SeriesVisitStatus,
)
from frontdesk.scheduling.series.plan import (
    Occurrence,
    SeriesPlan,
    SeriesRefusedError,
    patient_clash,
    visit_note,
)

# Visits that still wait for the officer: not booked, not skipped, not cancelled.
WAITING = (SeriesVisitStatus.PLANNED, SeriesVisitStatus.CONFLICT)


@dataclass(frozen=True)
class SeriesOutcome:
    series: AppointmentSeries
    booked: list[Appointment]
    conflicts: list[Occurrence]


@transaction.atomic
def series_book(
    *, context: AuditContext, user: User, patient: Patient, plan: SeriesPlan
) -> SeriesOutcome:
    """Create the series with one visit per planned occurrence and book every visit that is
    free now; the others are left as conflicts, each with its reason.

    One transaction: the series, its visits and its appointments commit together. Each visit
    goes through `services.appointment_book` (in its own savepoint), so the database's no-double-
    booking rule holds and a visit taken since the preview becomes a conflict, not an error.
    SeriesRefusedError (nothing kept) when not a single visit can be booked.
    """
    now = timezone.now()
    series = AppointmentSeries.objects.create(
        patient=patient,
        schedule=plan.schedule,
        appointment_type=plan.appointment_type,
        rrule=plan.rrule,
        count=plan.count,
        until=plan.until,
        created_at=now,
        created_by=user,
    )
    SeriesVisit.objects.bulk_create(
        SeriesVisit(series=series, position=number, planned_start=start)
        for number, start in enumerate(plan.starts, start=1)
    )
    visits = SeriesVisit.objects.filter(series=series)
    total = len(plan.starts)
    booked: list[Appointment] = []
    conflicts: list[Occurrence] = []
    for number, start in enumerate(plan.starts, start=1):
        problem = patient_clash(
            patient=patient, appointment_type=plan.appointment_type, start=start
        )
        if problem is None:
            try:
                appointment = services.appointment_book(
                    context=context,
                    user=user,
                    patient=patient,
                    schedule=plan.schedule,
                    appointment_type=plan.appointment_type,
                    start=start,
                    note=visit_note(number, total),
                    series_id=series.pk,
                )
            except services.SlotTakenError:
                problem = "That time was just taken by another booking"
            except services.BookingRefusedError as exc:
                problem = str(exc)
            else:
                booked.append(appointment)
                visits.filter(position=number).update(
                    status=SeriesVisitStatus.BOOKED, appointment=appointment
                )
                continue
        conflicts.append(Occurrence(number, start, problem))
        visits.filter(position=number).update(
            status=SeriesVisitStatus.CONFLICT, conflict_reason=problem[:200]
        )
    if not booked:  # raising rolls the series and its visits back with everything else
        raise SeriesRefusedError(
            "None of the visits can be booked as planned, so nothing was booked. "
            "Choose another time, day or provider."
        )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.APPOINTMENT_SERIES,
        object_id=series.pk,
        detail={
            "rrule": plan.rrule,
            "schedule": plan.schedule.pk,
            "appointment_type": plan.appointment_type.pk,
            "booked": [a.pk for a in booked],
            "conflicts": [{"visit": o.number, "start": o.start.isoformat()} for o in conflicts],
        },
    )
    return SeriesOutcome(series, booked, conflicts)
