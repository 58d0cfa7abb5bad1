"""The desk's eligibility actions: "verify now" at check-in, "verified another way", and the
payer's co-pay taken onto the coverage.

Nothing here ever blocks the desk: "verify now" waits at most the connection's timeout, once,
and says so; check-in goes on regardless."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.desk.live import desk_changed
from frontdesk.eligibility.estimate import Estimate
from frontdesk.eligibility.models import (
    OPEN_STATUSES,
    CheckReason,
    EligibilityCheck,
    VerifyLater,
)
from frontdesk.eligibility.queueing import check_request, coverages_in_force
from frontdesk.eligibility.selectors import (
    CoverageStatus,
    coverage_status,
    last_answer,
    visit_eligibility,
    visit_estimate,
)
from frontdesk.eligibility.sending import eligibility_send_due
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Coverage
from frontdesk.patients.selectors import access_patient
from frontdesk.scheduling.models import Appointment


class EligibilityRefusedError(Exception):
    """A check that cannot be asked (no connection, a member ID the payer would refuse)."""


def eligibility_verify_now(
    *, context: AuditContext, appointment: Appointment, now: dt.datetime
) -> list[EligibilityCheck]:
    """The desk's "verify now" at check-in: a check per coverage for the visit's date, sent at
    once, once, within the connection's timeout. A payer that does not answer leaves the
    desk a "verify later" item; check-in goes on regardless. Each step is its own short
    transaction, so nothing is held open while the payer is asked."""
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    ids: list[int] = []
    with transaction.atomic():
        for coverage in coverages_in_force([appointment.patient_id], day):
            check = check_request(
                coverage=coverage,
                date_of_service=day,
                reason=CheckReason.CHECK_IN,
                now=now,
                appointment=appointment,
                context=context,
            )
            if check is None:  # one already open: send it now rather than wait for it
                check = EligibilityCheck.objects.filter(
                    coverage=coverage, date_of_service=day, status__in=OPEN_STATUSES
                ).first()
                if check is None:
                    continue
                EligibilityCheck.objects.filter(pk=check.pk).update(
                    next_attempt_at=now, reason=CheckReason.CHECK_IN
                )
            ids.append(check.pk)
    if ids:
        eligibility_send_due(now=now, limit=None, concurrency=1, ids=ids)
    return list(EligibilityCheck.objects.filter(pk__in=ids).order_by("coverage__rank"))


def eligibility_verify_now_for_desk(
    *, user: User, context: AuditContext, appointment_id: int, now: dt.datetime
) -> tuple[list[CoverageStatus], Estimate | None]:
    """ "Verify now" from the check-in page: the visit (same clinic, a patient this user may
    see), asked now, and each coverage as check-in then shows it."""
    appointment = Appointment.objects.filter(
        pk=appointment_id, clinic_id=staff_clinic(user).pk
    ).first()
    if appointment is None:
        raise Http404("No such appointment")
    access_patient(user, appointment.patient_id)
    eligibility_verify_now(context=context, appointment=appointment, now=now)
    statuses = visit_eligibility(appointment, now=now)
    return statuses, visit_estimate(appointment, statuses)


@transaction.atomic
def verify_later_close_for_patient(
    *, user: User, context: AuditContext, patient_id: int, now: dt.datetime
) -> int:
    """The desk verified the patient's insurance another way (a call, the payer's portal):
    their open "verify later" items close. Returns how many."""
    patient = access_patient(user, patient_id)
    items = list(VerifyLater.objects.filter(patient=patient, closed_at__isnull=True))
    if not items:
        return 0
    VerifyLater.objects.filter(pk__in=[i.pk for i in items]).update(closed_at=now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id="",
        detail={"event": "verified another way", "items": len(items)},
    )
    desk_changed(patient.clinic_id)
    return len(items)


@transaction.atomic
def coverage_copay_from_payer(
    *, user: User, context: AuditContext, coverage_id: int, check_id: int
) -> Decimal:
    """Set the coverage's co-pay to the one in the payer's answer `check_id` (the answer the
    officer was shown). Refused if that answer is no longer the payer's last word."""
    coverage = Coverage.objects.select_for_update().filter(pk=coverage_id).first()
    if coverage is None:
        raise Http404("No such coverage")
    access_patient(user, coverage.patient_id)
    shown = last_answer(coverage.pk)
    if shown is None or shown.pk != check_id:
        raise EligibilityRefusedError(
            "The payer has answered again since this page was shown: look at the new answer."
        )
    statuses = [s for s in visit_eligibility_for_check(shown) if s.coverage.pk == coverage.pk]
    copay = statuses[0].payer_copay if statuses else None
    if copay is None:
        raise EligibilityRefusedError("The payer's answer gives no co-pay for this visit.")
    before = coverage.copay
    # An update, not save(): the payer's own figure needs no new question to the payer.
    Coverage.objects.filter(pk=coverage.pk).update(copay=copay)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[coverage.patient_id],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id=shown.pk,
        detail={
            "event": "co-pay taken from the payer",
            "coverage": coverage.pk,
            "before": str(before) if before is not None else None,
            "after": str(copay),
        },
    )
    return copay


def visit_eligibility_for_check(check: EligibilityCheck) -> list[CoverageStatus]:
    """Each coverage as check-in shows it, for the visit the check was about (or a plain
    general-coverage reading when it was about no visit)."""
    if check.appointment_id is not None:
        visit = Appointment.objects.filter(pk=check.appointment_id).first()
        if visit is not None:
            return visit_eligibility(visit, now=check.answered_at or check.requested_at)
    return [
        coverage_status(
            check.coverage,
            day=check.date_of_service,
            services=check.service_types,
            now=check.answered_at or check.requested_at,
        )
    ]
