"""Resolving a waiting visit (booked at another time, or skipped) and cancelling the rest of
a series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentSeries,
    CancelledBy,
    SeriesVisit,
    SeriesVisitStatus,
)
from frontdesk.scheduling.series.booking import WAITING
from frontdesk.scheduling.series.page import access_series
from frontdesk.scheduling.series.plan import (
    NEAR_ENOUGH,
    OPEN_STATUSES,
    SeriesRefusedError,
    local_words,
    patient_clash,
    visit_note,
)


@dataclass(frozen=True)
class _Open:
    series: AppointmentSeries
    patient: Patient
    visit: SeriesVisit
    total: int


def _open_visit(user: User, series_id: int, number: int) -> _Open:
    """A visit of the series that waits for the officer, its row locked so that two officers
    cannot resolve it twice (on SQLite the IMMEDIATE transaction already serialises writers).
    Call inside a transaction."""
    series, patient = access_series(user, series_id)
    visit = SeriesVisit.objects.select_for_update().filter(series=series, position=number).first()
    if visit is None:
        raise Http404("No such visit in this series")
    if visit.status not in WAITING:
        raise SeriesRefusedError(f"Visit {number} has already been dealt with.")
    return _Open(series, patient, visit, SeriesVisit.objects.filter(series=series).count())


@transaction.atomic
def series_visit_book(
    *, context: AuditContext, user: User, series_id: int, number: int, start: dt.datetime
) -> Appointment:
    """Book a visit of the series that could not be booked as planned at `start` (one of its
    nearby options, or the planned time once it is free)."""
    found = _open_visit(user, series_id, number)
    visit, series = found.visit, found.series
    if abs(start - visit.planned_start) > NEAR_ENOUGH:
        raise SeriesRefusedError("Pick one of the times offered near the planned visit.")
    clash = patient_clash(
        patient=found.patient, appointment_type=series.appointment_type, start=start
    )
    if clash is not None:
        raise services.BookingRefusedError(clash)
    note = visit_note(number, found.total)
    if start != visit.planned_start:
        zone = clinic_zone(found.patient.clinic_id)
        note += f", in place of {local_words(visit.planned_start, zone)}"
    appointment = services.appointment_book(
        context=context,
        user=user,
        patient=found.patient,
        schedule=series.schedule,
        appointment_type=series.appointment_type,
        start=start,
        note=note,
        series_id=series.pk,
    )
    visit.status = SeriesVisitStatus.BOOKED
    visit.appointment = appointment
    visit.save(update_fields=["status", "appointment"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[found.patient.pk],
        object_type=AuditObject.APPOINTMENT_SERIES,
        object_id=series.pk,
        detail={
            "visit": number,
            "planned": visit.planned_start.isoformat(),
            "booked": appointment.pk,
        },
    )
    return appointment


@transaction.atomic
def series_visit_skip(
    *, context: AuditContext, user: User, series_id: int, number: int, reason: str
) -> SeriesVisit:
    """Leave out a visit that could not be booked as planned; the series goes on without it.
    Nothing is booked or cancelled: the visit never held the provider's time."""
    found = _open_visit(user, series_id, number)
    why = reason.strip() or "not booked"
    visit = found.visit
    visit.status = SeriesVisitStatus.SKIPPED
    visit.skip_reason = why[:200]
    visit.save(update_fields=["status", "skip_reason"])
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[found.patient.pk],
        object_type=AuditObject.APPOINTMENT_SERIES,
        object_id=found.series.pk,
        detail={"visit": number, "skipped": visit.planned_start.isoformat(), "reason": why},
    )
    return visit


@transaction.atomic
def series_cancel_remaining(
    *,
    context: AuditContext,
    user: User,
    series_id: int,
    cancelled_by: CancelledBy,
    reason: str,
) -> int:
    """Cancel every visit of the series from now on, in one transaction: booked ones through
    `services.appointment_cancel` (each audited, late ones flagged), and planned visits not
    booked yet are closed with the reason. Returns how many booked appointments were
    cancelled.

    A visit whose appointment is no longer open (cancelled or marked a no-show from the
    appointment page) is left as it is. The appointment rows are locked and read afresh first,
    so one cancelled from its page a moment ago is skipped, not an error."""
    why = reason.strip()
    if not why:
        raise SeriesRefusedError("Say why the rest of the series is cancelled.")
    series, patient = access_series(user, series_id)
    now = timezone.now()
    visits = list(
        SeriesVisit.objects.select_for_update().filter(series=series).order_by("position")
    )
    held_ids = sorted(v.appointment_id for v in visits if v.appointment_id is not None)
    current = {
        a.pk: a
        for a in Appointment.objects.select_for_update().filter(pk__in=held_ids).order_by("pk")
    }
    cancelled: list[int] = []
    closed: list[int] = []
    for visit in visits:
        held = current.get(visit.appointment_id) if visit.appointment_id is not None else None
        if held is not None and held.status in OPEN_STATUSES and held.start >= now:
            services.appointment_cancel(
                context=context,
                user=user,
                appointment=held,
                cancelled_by=cancelled_by,
                reason=why,
            )
            cancelled.append(visit.position)
        elif visit.status in WAITING and visit.planned_start >= now:
            visit.skip_reason = f"Series cancelled: {why}"[:200]
            closed.append(visit.position)
        else:
            continue
        visit.status = SeriesVisitStatus.CANCELLED
        visit.save(update_fields=["status", "skip_reason"])
    if not cancelled and not closed:
        raise SeriesRefusedError("No visit of this series is left to cancel.")
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.APPOINTMENT_SERIES,
        object_id=series.pk,
        detail={
            "cancelled_remaining": len(cancelled),
            "cancelled_visits": cancelled,
            "closed_unbooked": closed,
            "cancelled_by": str(cancelled_by),
            "reason": why,
        },
    )
    return len(cancelled)
