"""The patient's estimate for a visit as the desk gives it: at booking (before the visit
exists), on the visit's page, as a printed PDF, and for self-pay patients the good-faith
estimate (45 CFR 149.610) filed to the chart, and the financial assistance offered to them.

The estimate reads the payer's last answer for the visit's own date of service: an answer for
another day says nothing about this one, so without it the desk is told plainly that the
coverage was not verified for that day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.documents.services import documents_upload
from frontdesk.documents.storage import Upload
from frontdesk.eligibility.assistance import (
    DEFAULT_SCALE,
    Assessment,
    Scale,
    ScaleError,
    assess,
    bands_check,
)
from frontdesk.eligibility.estimate import Estimate, estimate
from frontdesk.eligibility.models import (
    GOOD_OUTCOMES,
    AssistanceDecision,
    AssistanceOutcome,
    EligibilityCheck,
    EstimateIdentity,
    Outcome,
    SlidingFeeScale,
    VisitFee,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import money_format
from frontdesk.lib.pdf import pdf_from_template
from frontdesk.patients.models import Coverage, Patient
from frontdesk.scheduling.models import Appointment
from frontdesk.scheduling.selectors import access_appointment


class EstimateRefusedError(ValueError):
    """The estimate or assistance cannot be given; the message says why in the desk's words."""


@dataclass(frozen=True)
class VisitEstimate:
    """What the desk tells the patient about the cost of one visit."""

    day: dt.date
    kind: AppointmentType
    fee: VisitFee | None
    estimate: Estimate | None  # None: no fee set, or the coverage not verified for the day
    line: str  # "Estimate: $25.00 today (co-pay), $0.00 later"
    verified: bool  # the payer answered for this date of service
    self_pay: bool  # no coverage, or the payer said it is not active that day
    coverage: Coverage | None
    check: EligibilityCheck | None
    assistance: AssistanceDecision | None  # the patient's last decision on assistance
    assessment: Assessment | None  # the sliding fee applied to this visit, if any

    @property
    def simulator(self) -> bool:
        return bool(self.check and self.check.from_simulator)


def sliding_fee_scale(clinic_id: int) -> Scale:
    """The clinic's sliding-fee scale, or the default (2025 guidelines, labelled so)."""
    stored = SlidingFeeScale.objects.filter(clinic_id=clinic_id).first()
    if stored is None:
        return DEFAULT_SCALE
    return Scale(
        year=stored.guideline_year,
        label=stored.guideline_label,
        first_person=stored.first_person,
        each_further_person=stored.each_further_person,
        bands=bands_check(stored.bands),
    )


def _answer_for_day(coverage: Coverage, day: dt.date) -> EligibilityCheck | None:
    return (
        EligibilityCheck.objects.filter(
            coverage=coverage, date_of_service=day, outcome__in=GOOD_OUTCOMES
        )
        .order_by("-answered_at", "-pk")
        .first()
    )


def _benefit(check: EligibilityCheck) -> dict[str, object] | None:
    benefits = check.parsed.get("benefits", {}) if isinstance(check.parsed, dict) else {}
    for code in [*check.service_types.split(), "30"]:
        if code in benefits:
            found: dict[str, object] = benefits[code]
            return found
    return None


def _kind_words(est: Estimate, *, self_pay: bool, sliding: bool) -> str:
    if self_pay:
        return "self-pay, sliding fee" if sliding else "self-pay"
    if est.basis.startswith("co-pay"):
        return "co-pay"
    return "deductible and coinsurance, billed after the claim"


def visit_estimate_for(
    *, patient: Patient, kind: AppointmentType, day: dt.date, now: dt.datetime | None = None
) -> VisitEstimate:
    """The estimate for `patient` seeing `kind` of visit on the clinic's `day` (no audit: the
    page it is shown on records the look at the patient)."""
    fee = VisitFee.objects.filter(appointment_type=kind).first()
    coverage = Coverage.objects.filter(patient=patient, rank=1).select_related("payer").first()
    check = _answer_for_day(coverage, day) if coverage is not None else None
    assistance = (
        AssistanceDecision.objects.filter(patient=patient).order_by("-recorded_at", "-pk").first()
    )
    verified = check is not None
    self_pay = coverage is None or (check is not None and check.outcome != Outcome.ACTIVE)
    when = f"{day:%a %b} {day.day}"
    if coverage is not None and check is None:
        return VisitEstimate(
            day, kind, fee, None,
            f"Coverage not verified for {when}: no estimate until the payer answers. "
            "Verify at check-in.",
            False, False, coverage, None, assistance, None,
        )  # fmt: skip
    if fee is None:
        return VisitEstimate(
            day, kind, None, None,
            f"No fee is set for {kind.name}: no estimate.",
            verified, self_pay, coverage, check, assistance, None,
        )  # fmt: skip
    est = estimate(
        fee=fee.amount,
        active=check is not None and check.outcome == Outcome.ACTIVE,
        benefit=_benefit(check) if check is not None else None,
    )
    assessment = None
    if (
        self_pay
        and assistance is not None
        and assistance.outcome == AssistanceOutcome.APPLIED
        and assistance.household_size is not None
        and assistance.income is not None
    ):
        assessment = assess(
            scale=sliding_fee_scale(patient.clinic_id),
            household_size=assistance.household_size,
            income=assistance.income,
            fee=fee.amount,
        )
        est = Estimate(
            fee.amount,
            assessment.discounted_fee,
            Decimal("0.00"),
            f"sliding fee: {assessment.band}",
        )
    line = (
        f"Estimate: {money_format(est.today)} today "
        f"({_kind_words(est, self_pay=self_pay, sliding=assessment is not None)}), "
        f"{money_format(est.later)} later"
    )
    if check is not None and check.outcome != Outcome.ACTIVE:
        line = f"The payer says the coverage is not active for {when}. {line}"
    return VisitEstimate(
        day, kind, fee, est, line, verified, self_pay, coverage, check, assistance, assessment
    )


def appointment_estimate(appointment: Appointment) -> VisitEstimate:
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    return visit_estimate_for(
        patient=appointment.patient, kind=appointment.appointment_type, day=day
    )


def _print_context(appointment: Appointment, found: VisitEstimate, now: dt.datetime) -> dict:  # type: ignore[type-arg]
    zone = clinic_zone(appointment.clinic_id)
    identity = EstimateIdentity.objects.filter(clinic_id=appointment.clinic_id).first()
    location = appointment.schedule.location
    return {
        "clinic": appointment.clinic,
        "appointment": appointment,
        "patient": appointment.patient,
        "found": found,
        "start": appointment.start.astimezone(zone),
        "issued": now.astimezone(zone).date(),
        "identity": identity,
        "location": location,
        "scale": sliding_fee_scale(appointment.clinic_id),
    }


@transaction.atomic
def visit_estimate_pdf(
    *, user: User, context: AuditContext, appointment_id: int, now: dt.datetime
) -> tuple[Appointment, bytes]:
    """The visit's estimate printed for the patient (audited as a print)."""
    appointment = access_appointment(user, appointment_id)
    found = appointment_estimate(appointment)
    audit_record(
        context=context,
        action=AuditAction.PRINT,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.VISIT_ESTIMATE,
        object_id=appointment.pk,
        detail={"verified": found.verified, "self_pay": found.self_pay},
    )
    pdf = pdf_from_template(
        "eligibility/estimate_pdf.html", _print_context(appointment, found, now)
    )
    return appointment, pdf


@transaction.atomic
def good_faith_estimate_issue(
    *, user: User, context: AuditContext, appointment_id: int, now: dt.datetime
) -> Document:
    """The good-faith estimate of a self-pay patient's visit: a PDF with what 45 CFR 149.610
    asks for, filed to the patient's chart as a document given to them (audited)."""
    appointment = access_appointment(user, appointment_id)
    found = appointment_estimate(appointment)
    if not found.self_pay:
        raise EstimateRefusedError(
            "A good-faith estimate is for patients without coverage the payer confirmed for "
            "the day; print the estimate instead."
        )
    if found.fee is None or found.estimate is None:
        raise EstimateRefusedError(
            f"No fee is set for {appointment.appointment_type.name}; set the fee first."
        )
    pdf = pdf_from_template(
        "eligibility/good_faith_estimate.html", _print_context(appointment, found, now)
    )
    day = found.day
    (document,) = documents_upload(
        context=context,
        user=user,
        clinic=staff_clinic(user),
        uploads=[Upload(name=f"good-faith-estimate-{day:%Y-%m-%d}.pdf", data=pdf)],
        patient=appointment.patient,
        kind=DocumentKind.CORRESPONDENCE,
        title=f"Good-faith estimate for the visit of {day:%b} {day.day}, {day:%Y}",
        now=now,
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.GOOD_FAITH_ESTIMATE,
        object_id=document.pk,
        detail={"appointment": appointment.pk, "total": str(found.estimate.today)},
    )
    return document


@transaction.atomic
def assistance_record(
    *,
    user: User,
    context: AuditContext,
    appointment_id: int,
    outcome: str,
    household_size: int | None,
    income: Decimal | None,
    now: dt.datetime | None = None,
) -> AssistanceDecision:
    """Financial assistance offered to a self-pay patient at a visit, and what came of it:
    applied (the band and discounted fee computed from household and income), declined, or
    offered for the patient to decide (audited)."""
    appointment = access_appointment(user, appointment_id)
    if outcome not in AssistanceOutcome.values:
        raise EstimateRefusedError("Choose what the patient decided.")
    fee = VisitFee.objects.filter(appointment_type_id=appointment.appointment_type_id).first()
    assessment: Assessment | None = None
    scale = sliding_fee_scale(appointment.clinic_id)
    if outcome == AssistanceOutcome.APPLIED:
        if household_size is None or income is None:
            raise EstimateRefusedError("Type the household size and the yearly income.")
        if fee is None:
            raise EstimateRefusedError(
                f"No fee is set for {appointment.appointment_type.name}; set the fee first."
            )
        try:
            assessment = assess(
                scale=scale, household_size=household_size, income=income, fee=fee.amount
            )
        except ScaleError as exc:
            raise EstimateRefusedError(str(exc)) from None
    decision = AssistanceDecision.objects.create(
        clinic_id=appointment.clinic_id,
        patient_id=appointment.patient_id,
        appointment=appointment,
        outcome=outcome,
        household_size=household_size if assessment else None,
        income=income if assessment else None,
        percent_of_guideline=assessment.percent if assessment else None,
        band=assessment.band if assessment else "",
        guideline_year=scale.year if assessment else None,
        fee=fee.amount if fee else None,
        discounted_fee=assessment.discounted_fee if assessment else None,
        recorded_at=now or timezone.now(),
        recorded_by=user,
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.FINANCIAL_ASSISTANCE,
        object_id=decision.pk,
        detail={"outcome": outcome, "band": decision.band},
    )
    return decision


@transaction.atomic
def sliding_fee_scale_set(
    *,
    context: AuditContext,
    clinic_id: int,
    year: int,
    label: str,
    first_person: Decimal,
    each_further_person: Decimal,
    bands: list[dict[str, object]] | None = None,
) -> Scale:
    """Set a clinic's sliding-fee scale (the year's poverty guideline and, if given, the
    bands; otherwise the default bands), audited."""
    if first_person <= 0 or each_further_person < 0:
        raise EstimateRefusedError("The guideline amounts must be more than zero.")
    if not label.strip():
        raise EstimateRefusedError("Say which guidelines these are, e.g. the year and region.")
    try:
        checked = bands_check(list(DEFAULT_SCALE.bands) if bands is None else bands)
    except ScaleError as exc:
        raise EstimateRefusedError(str(exc)) from None
    SlidingFeeScale.objects.update_or_create(
        clinic_id=clinic_id,
        defaults={
            "guideline_year": year,
            "guideline_label": label.strip()[:120],
            "first_person": first_person,
            "each_further_person": each_further_person,
            "bands": list(checked),
        },
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.FINANCIAL_ASSISTANCE,
        object_id=f"scale:{clinic_id}",
        detail={"year": year, "first_person": str(first_person), "bands": len(checked)},
    )
    return sliding_fee_scale(clinic_id)
