"""Eligibility reads: the last answer a payer gave about a coverage, what check-in shows, and
the audited reads of a patient's checks and of a raw 271."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.eligibility.estimate import Estimate, estimate
from frontdesk.eligibility.models import (
    GOOD_OUTCOMES,
    CheckStatus,
    EligibilityCheck,
    Outcome,
    VisitFee,
)
from frontdesk.eligibility.x12 import SERVICE_TYPES
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import money_format
from frontdesk.patients.models import Coverage, Patient
from frontdesk.patients.selectors import access_patient
from frontdesk.scheduling.models import Appointment


def last_answer(coverage_id: int) -> EligibilityCheck | None:
    """The payer's last answer about the coverage (active, not active, or refused); answers
    not understood or about another member never count."""
    return (
        EligibilityCheck.objects.filter(coverage_id=coverage_id, outcome__in=GOOD_OUTCOMES)
        .order_by("-answered_at", "-pk")
        .first()
    )


def _money(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class CoverageStatus:
    """What check-in says about one coverage."""

    coverage: Coverage
    check: EligibilityCheck | None  # the answer the line reads from, if any
    line: str  # "Verified today · active · co-pay $25.00 for an office visit"
    verified: bool
    could_not_verify: bool
    payer_copay: Decimal | None
    card_copay: Decimal | None
    simulator: bool

    @property
    def copay_differs(self) -> bool:
        return (
            self.payer_copay is not None
            and self.card_copay is not None
            and self.payer_copay != self.card_copay
        )


def _when(answered: dt.datetime | None, now: dt.datetime, zone: dt.tzinfo) -> str:
    if answered is None:
        return ""
    day = answered.astimezone(zone).date()
    today = now.astimezone(zone).date()
    if day == today:
        return "Verified today"
    if day == today - dt.timedelta(days=1):
        return "Verified yesterday"
    return f"Verified {day:%d %b %Y}"


def coverage_status(
    coverage: Coverage, *, day: dt.date, services: str, now: dt.datetime
) -> CoverageStatus:
    zone = clinic_zone(coverage.patient.clinic_id)
    latest = (
        EligibilityCheck.objects.filter(coverage=coverage)
        .exclude(status__in=[CheckStatus.PENDING, CheckStatus.SENDING], attempts=0)
        .order_by("-pk")
        .first()
    )
    good = last_answer(coverage.pk)
    card = coverage.copay
    failed_today = (
        latest is not None
        and latest.outcome not in GOOD_OUTCOMES
        and latest.attempts > 0
        and (good is None or good.pk < latest.pk)
    )
    if good is None:
        line = latest.words if failed_today and latest and latest.words else "Not verified yet"
        return CoverageStatus(
            coverage,
            latest,
            line,
            False,
            failed_today,
            None,
            card,
            bool(latest and latest.from_simulator),
        )
    parts = [_when(good.answered_at, now, zone)]
    copay: Decimal | None = None
    if good.outcome == Outcome.ACTIVE:
        parts.append("active")
        benefits = good.parsed.get("benefits", {}) if isinstance(good.parsed, dict) else {}
        for code in [*services.split(), "30"]:
            benefit = benefits.get(code)
            if benefit and benefit.get("copay") is not None:
                copay = _money(benefit["copay"])
                if copay is not None:
                    parts.append(
                        f"co-pay {money_format(copay).removesuffix('.00')} for "
                        f"{SERVICE_TYPES.get(code, 'service type ' + code)}"
                    )
                    break
        if good.date_of_service != day:
            parts.append(f"for {good.date_of_service:%d %b %Y}")
    elif good.outcome == Outcome.INACTIVE:
        parts.append("not active")
    else:
        parts.append(good.words)
    line = " · ".join(p for p in parts if p)
    if failed_today and latest is not None:
        line += f" · {latest.words}"
    return CoverageStatus(
        coverage, good, line, True, failed_today, copay, card, good.from_simulator
    )


def visit_eligibility(appointment: Appointment, *, now: dt.datetime) -> list[CoverageStatus]:
    """Each coverage of the visit's patient as check-in shows it (no audit: the check-in
    page's own read of the visit records the view)."""
    from_types = getattr(appointment.appointment_type, "eligibility_services", None)
    services = (from_types.codes if from_types else "") or "30"
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    coverages = Coverage.objects.filter(patient_id=appointment.patient_id).select_related(
        "payer", "patient"
    )
    return [coverage_status(c, day=day, services=services, now=now) for c in coverages]


def payer_copay(appointment: Appointment, *, now: dt.datetime) -> Decimal | None:
    """The primary coverage's co-pay as the payer last gave it, or None."""
    for status in visit_eligibility(appointment, now=now):
        if status.coverage.rank == 1:
            return status.payer_copay
    return None


@dataclass(frozen=True)
class PatientChecks:
    patient: Patient
    checks: list[EligibilityCheck]


@transaction.atomic
def patient_checks_for_view(*, user: User, context: AuditContext, patient_id: int) -> PatientChecks:
    """A patient's eligibility checks, newest first (audited)."""
    patient = access_patient(user, patient_id)
    checks = list(
        EligibilityCheck.objects.filter(patient=patient)
        .select_related("coverage__payer")
        .defer("request_x12", "response_x12")
        .order_by("-pk")[:50]
    )
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[patient.pk],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id="",
        detail={"checks": len(checks)},
    )
    return PatientChecks(patient, checks)


@transaction.atomic
def check_raw_for_view(*, user: User, context: AuditContext, check_id: int) -> EligibilityCheck:
    """One check with its raw 270 and 271, as sent and received (audited: the 271 is PHI)."""
    check = EligibilityCheck.objects.filter(pk=check_id, clinic_id=staff_clinic(user).pk).first()
    if check is None:
        raise Http404("No such check")
    access_patient(user, check.patient_id)
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[check.patient_id],
        object_type=AuditObject.ELIGIBILITY_RESPONSE,
        object_id=check.pk,
        detail={"raw": True},
    )
    return check


def visit_estimate(appointment: Appointment, statuses: list[CoverageStatus]) -> Estimate | None:
    """The patient's estimate for the visit, from the fee for its type (None when the clinic
    has set no fee) and the primary coverage's last answer."""
    fee = VisitFee.objects.filter(appointment_type_id=appointment.appointment_type_id).first()
    if fee is None:
        return None
    primary = next((s for s in statuses if s.coverage.rank == 1), None)
    good = primary.check if primary is not None and primary.verified else None
    benefit = None
    if good is not None and isinstance(good.parsed, dict):
        benefits = good.parsed.get("benefits", {})
        for code in [*good.service_types.split(), "30"]:
            if code in benefits:
                benefit = benefits[code]
                break
    active = good is not None and good.outcome == Outcome.ACTIVE
    return estimate(fee=fee.amount, active=active, benefit=benefit)
