"""The series page: every planned visit with its booking, and for a visit still waiting the
nearby free times to choose from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import patient_access_check
from frontdesk.scheduling.availability import FreeSlot, free_slots
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    Schedule,
    SeriesVisit,
    SeriesVisitStatus,
)
from frontdesk.scheduling.series.booking import WAITING
from frontdesk.scheduling.series.plan import (
    NEARBY_DAYS,
    OPEN_STATUSES,
    OPTIONS,
    occurrence_problem,
)


@dataclass
class SeriesRow:
    number: int | None  # None: an appointment of the series that belongs to no planned visit
    planned: dt.datetime | None
    appointment: Appointment | None = None
    status: str = ""  # the visit's SeriesVisitStatus
    reason: str = ""  # why it was skipped, cancelled unbooked, or not booked as planned
    problem: str | None = None  # for a visit not booked yet: why not, as of now
    options: list[FreeSlot] = field(default_factory=list)

    @property
    def state(self) -> str:
        """unresolved, skipped, cancelled, moved, or the booked appointment's own status."""
        a = self.appointment
        if self.status in WAITING:
            return "unresolved"
        if self.status == SeriesVisitStatus.SKIPPED:
            return "skipped"
        if a is None:
            return "cancelled" if self.status == SeriesVisitStatus.CANCELLED else "unresolved"
        if a.status == AppointmentStatus.BOOKED and self.planned and a.start != self.planned:
            return "moved"
        return str(a.status)

    @property
    def waiting(self) -> bool:
        return self.number is not None and self.status in WAITING


@dataclass
class SeriesPage:
    series: AppointmentSeries
    patient: Patient
    schedule: Schedule
    appointment_type: AppointmentType
    rows: list[SeriesRow]

    @property
    def unresolved(self) -> list[SeriesRow]:
        return [r for r in self.rows if r.waiting]

    @property
    def remaining(self) -> int:
        now = timezone.now()
        return sum(
            1
            for r in self.rows
            if (r.waiting and r.planned is not None and r.planned >= now)
            or (
                r.appointment is not None
                and r.appointment.status in OPEN_STATUSES
                and r.appointment.start >= now
            )
        )


def access_series(user: User, series_id: int) -> tuple[AppointmentSeries, Patient]:
    """The series (with its schedule and type) and its patient, if this user may see the
    patient (same clinic, and a restricted record only after breaking the glass)."""
    if user.clinic_id is None:
        raise Http404("No such series")
    series = (
        AppointmentSeries.objects.filter(pk=series_id, patient__clinic_id=user.clinic_id)
        .select_related(
            "patient", "schedule__provider", "schedule__location", "appointment_type", "created_by"
        )
        .first()
    )
    if series is None:
        raise Http404("No such series")
    return series, patient_access_check(user, series.patient)


def series_visits(series: AppointmentSeries) -> list[SeriesVisit]:
    return list(
        SeriesVisit.objects.filter(series=series)
        .select_related("appointment__provider", "appointment__appointment_type")
        .order_by("position")
    )


def nearby_options(
    *,
    patient: Patient,
    schedule: Schedule,
    appointment_type: AppointmentType,
    planned: dt.datetime,
    now: dt.datetime,
) -> list[FreeSlot]:
    """Free times of the same provider and place within NEARBY_DAYS of the planned visit that
    the patient is free for: on each day the one closest to the planned time of day, nearest
    days first."""
    zone = clinic_zone(schedule.clinic_id)
    local = planned.astimezone(zone)
    lo = dt.datetime.combine(local.date() - dt.timedelta(days=NEARBY_DAYS), dt.time(0), zone)
    hi = dt.datetime.combine(local.date() + dt.timedelta(days=NEARBY_DAYS + 1), dt.time(0), zone)
    slots = free_slots(
        appointment_type=appointment_type,
        schedules=[schedule],
        start=lo,
        end=hi,
        now=now,
        limit=500,
    )
    busy = list(
        Appointment.objects.filter(
            patient_id=patient.pk, status__in=ACTIVE_STATUSES, start__lt=hi, end__gt=lo
        ).values_list("start", "end")
    )
    best: dict[dt.date, tuple[float, FreeSlot]] = {}
    planned_minutes = local.hour * 60 + local.minute
    for slot in slots:
        if any(s < slot.end and e > slot.start for s, e in busy):
            continue
        here = slot.start.astimezone(zone)
        gap = abs(here.hour * 60 + here.minute - planned_minutes)
        if here.date() not in best or gap < best[here.date()][0]:
            best[here.date()] = (gap, slot)
    ordered = sorted(best.items(), key=lambda item: (abs((item[0] - local.date()).days), item[0]))
    return [slot for _, (_, slot) in ordered[:OPTIONS]]


def waiting_row(
    row: SeriesRow,
    *,
    planned: dt.datetime,
    series: AppointmentSeries,
    patient: Patient,
    now: dt.datetime,
) -> None:
    """Why a visit not booked yet still cannot be booked as planned, and what to pick instead:
    the planned time itself once it is free, else nearby free times (none for a long past
    visit)."""
    schedule, kind = series.schedule, series.appointment_type
    row.problem = occurrence_problem(
        patient=patient, schedule=schedule, appointment_type=kind, start=planned, now=now
    )
    if row.problem is None:
        end = planned + dt.timedelta(minutes=kind.duration_minutes)
        row.options = [FreeSlot(schedule, schedule.provider, schedule.location, planned, end)]
    elif planned >= now - dt.timedelta(days=NEARBY_DAYS):
        row.options = nearby_options(
            patient=patient, schedule=schedule, appointment_type=kind, planned=planned, now=now
        )


def series_page(*, context: AuditContext, user: User, series_id: int) -> SeriesPage:
    """Every planned visit of the series with its status and appointment or, when it has none
    yet, why and the nearby free times to choose from (audited as a view of the patient)."""
    series, patient = access_series(user, series_id)
    now = timezone.now()
    rows: list[SeriesRow] = []
    for visit in series_visits(series):
        row = SeriesRow(
            visit.position,
            visit.planned_start,
            visit.appointment,
            visit.status,
            visit.skip_reason or visit.conflict_reason,
        )
        if row.waiting:
            waiting_row(row, planned=visit.planned_start, series=series, patient=patient, now=now)
        rows.append(row)
    # Appointments of the series outside its planned visits (kept from before visits were
    # recorded) are listed after them, so nothing of the series is hidden.
    extras = (
        Appointment.objects.filter(series=series, series_visit__isnull=True)
        .select_related("provider", "appointment_type")
        .order_by("start", "pk")
    )
    rows.extend(SeriesRow(None, None, a, str(a.status)) for a in extras)
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type=AuditObject.APPOINTMENT_SERIES,
        object_id=series.pk,
    )
    return SeriesPage(series, patient, series.schedule, series.appointment_type, rows)
