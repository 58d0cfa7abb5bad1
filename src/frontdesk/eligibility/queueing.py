"""Eligibility checks asked for: one coverage in the transaction of its cause (coverage saved,
visit booked), and the nightly batch of the next business days' visits.

A check is a row; the worker sends it (`sending.eligibility_send_due`). A check already open
for the same coverage and day is the one that answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.eligibility.models import (
    GOOD_OUTCOMES,
    OPEN_STATUSES,
    AppointmentTypeServices,
    CheckReason,
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Coverage
from frontdesk.scheduling.business_days import business_days_from
from frontdesk.scheduling.models import Appointment, AppointmentStatus

FRESH = dt.timedelta(days=1)  # the batch skips coverage verified this recently
BATCH_DAYS = 2
DEFAULT_SERVICES = "30"
_ACTIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CHECKED_IN,
)


def system_context(clinic_id: int) -> AuditContext:
    """The audit context of the worker's own eligibility writes for a clinic."""
    return dataclasses.replace(
        SYSTEM_CONTEXT, clinic_id=clinic_id, purpose="payment: insurance eligibility"
    )


def service_types_for(appointment: Appointment | None) -> str:
    if appointment is None:
        return DEFAULT_SERVICES
    row = AppointmentTypeServices.objects.filter(
        appointment_type_id=appointment.appointment_type_id
    ).first()
    return (row.codes.strip() if row else "") or DEFAULT_SERVICES


def _new_trace() -> str:
    return "EC" + secrets.token_hex(8).upper()


def check_request(
    *,
    coverage: Coverage,
    date_of_service: dt.date,
    reason: CheckReason,
    now: dt.datetime,
    appointment: Appointment | None = None,
    context: AuditContext | None = None,
) -> EligibilityCheck | None:
    """Queue a check of `coverage` for `date_of_service`; call it in the transaction of its
    cause. A check already open for the same coverage and day is the one that answers: None.
    A clinic with no eligibility connection asks nothing: None."""
    clinic_id = coverage.patient.clinic_id
    if not EligibilityConnection.objects.filter(clinic_id=clinic_id).exists():
        return None
    check = EligibilityCheck(
        clinic_id=clinic_id,
        patient_id=coverage.patient_id,
        coverage=coverage,
        appointment=appointment,
        date_of_service=date_of_service,
        service_types=service_types_for(appointment),
        reason=reason,
        trace=_new_trace(),
        requested_at=now,
        next_attempt_at=now,
    )
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the cause's work intact
            check.save(force_insert=True)
    except IntegrityError:
        held = EligibilityCheck.objects.filter(
            coverage=coverage, date_of_service=date_of_service, status__in=OPEN_STATUSES
        ).first()
        if held is None:
            raise
        if held.status == CheckStatus.PENDING:
            # Not sent yet: it asks about this visit's services too.
            codes = list(dict.fromkeys([*held.service_types.split(), *check.service_types.split()]))
            held.service_types = " ".join(codes)[:60]
            held.appointment_id = held.appointment_id or (appointment.pk if appointment else None)
            held.save(update_fields=["service_types", "appointment"])
        return None
    audit_record(
        context=context or system_context(clinic_id),
        action=AuditAction.CREATE,
        patient_ids=[coverage.patient_id],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id=check.pk,
        detail={"reason": reason, "date_of_service": date_of_service.isoformat()},
    )
    return check


def coverages_in_force(patient_ids: Iterable[int], day: dt.date) -> list[Coverage]:
    return list(
        Coverage.objects.filter(patient_id__in=list(patient_ids))
        .filter(Q(effective_date__isnull=True) | Q(effective_date__lte=day))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("patient")
    )


def appointment_checks_request(
    *, appointment: Appointment, reason: CheckReason, now: dt.datetime
) -> int:
    """Queue a check for each coverage of the visit's patient, for the visit's local date."""
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    coverages = coverages_in_force([appointment.patient_id], day)
    if not coverages:
        return 0  # nothing to check: every booking of a patient without insurance asks no more
    # Saved again (confirmed, a note) without moving: an answer from the last day still holds.
    fresh = set(
        EligibilityCheck.objects.filter(
            patient_id=appointment.patient_id,
            date_of_service=day,
            answered_at__gte=now - FRESH,
            outcome__in=GOOD_OUTCOMES,
        ).values_list("coverage_id", flat=True)
    )
    queued = 0
    for coverage in coverages:
        if coverage.pk in fresh:
            continue
        if check_request(
            coverage=coverage, date_of_service=day, reason=reason, now=now, appointment=appointment
        ):
            queued += 1
    return queued


def coverage_checks_request(*, coverage: Coverage, now: dt.datetime) -> int:
    """Coverage entered or changed: check it for the patient's next visit (or today)."""
    zone = clinic_zone(coverage.patient.clinic_id)
    upcoming = (
        Appointment.objects.filter(
            patient_id=coverage.patient_id, start__gte=now, status__in=_ACTIVE_STATUSES
        )
        .order_by("start")
        .first()
    )
    day = (upcoming.start if upcoming else now).astimezone(zone).date()
    return int(
        check_request(
            coverage=coverage,
            date_of_service=day,
            reason=CheckReason.COVERAGE,
            now=now,
            appointment=upcoming,
        )
        is not None
    )


@transaction.atomic
def eligibility_batch_queue(*, clinic: Clinic, now: dt.datetime) -> int:
    """The nightly batch: a check per coverage of every visit on the clinic's next two business
    days, skipping coverage answered in the last day and checks already open. One audit event
    names every patient queued."""
    if not EligibilityConnection.objects.filter(clinic=clinic).exists():
        return 0
    zone = clinic_zone(clinic)
    today = now.astimezone(zone).date()
    days = business_days_from(clinic.pk, today, BATCH_DAYS)
    start = dt.datetime.combine(days[0], dt.time(), tzinfo=zone)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    visits = list(
        Appointment.objects.filter(
            clinic=clinic, start__gte=start, start__lt=end, status__in=_ACTIVE_STATUSES
        ).order_by("start")
    )
    fresh = set(
        EligibilityCheck.objects.filter(
            clinic=clinic, answered_at__gte=now - FRESH, outcome__in=GOOD_OUTCOMES
        ).values_list("coverage_id", flat=True)
    )
    open_now = set(
        EligibilityCheck.objects.filter(clinic=clinic, status__in=OPEN_STATUSES).values_list(
            "coverage_id", "date_of_service"
        )
    )
    services = dict(
        AppointmentTypeServices.objects.filter(appointment_type__clinic=clinic).values_list(
            "appointment_type_id", "codes"
        )
    )
    by_patient: dict[int, list[Coverage]] = {}
    for coverage in Coverage.objects.filter(
        patient_id__in={v.patient_id for v in visits}
    ).select_related("patient"):
        by_patient.setdefault(coverage.patient_id, []).append(coverage)
    rows: list[EligibilityCheck] = []
    seen: set[tuple[int, dt.date]] = set()
    for visit in visits:
        day = visit.start.astimezone(zone).date()
        for coverage in by_patient.get(visit.patient_id, ()):
            key = (coverage.pk, day)
            in_force = (coverage.effective_date is None or coverage.effective_date <= day) and (
                coverage.end_date is None or coverage.end_date >= day
            )
            if not in_force or coverage.pk in fresh or key in open_now or key in seen:
                continue
            seen.add(key)
            rows.append(
                EligibilityCheck(
                    clinic=clinic,
                    patient_id=visit.patient_id,
                    coverage=coverage,
                    appointment=visit,
                    date_of_service=day,
                    service_types=(services.get(visit.appointment_type_id) or "").strip()
                    or DEFAULT_SERVICES,
                    reason=CheckReason.BATCH,
                    trace=_new_trace(),
                    requested_at=now,
                    next_attempt_at=now,
                )
            )
    EligibilityCheck.objects.bulk_create(rows, batch_size=500)
    if rows:
        audit_record(
            context=system_context(clinic.pk),
            action=AuditAction.CREATE,
            patient_ids={r.patient_id for r in rows},
            object_type=AuditObject.ELIGIBILITY_CHECK,
            detail={
                "reason": CheckReason.BATCH,
                "checks": len(rows),
                "days": [d.isoformat() for d in days],
            },
        )
    return len(rows)
