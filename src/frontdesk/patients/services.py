"""Writes to the patient index. Each service records its own audit event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.patients.duplicates import (
    DuplicateCandidate,
    duplicate_candidates,
    person_record_from_data,
)
from frontdesk.patients.indexing import (
    alias_derive_fields,
    family_names_register,
    patient_derive_fields,
)
from frontdesk.patients.matching import EXISTING_PATIENT_THRESHOLD
from frontdesk.patients.models import (
    BreakGlassGrant,
    Coverage,
    Patient,
    PatientAlias,
    Payer,
    SupervisorNotice,
)
from frontdesk.patients.mrn import mrn_reserve

PATIENT_FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "suffix",
    "preferred_name",
    "birth_date",
    "sex",
    "gender_identity",
    "pronouns",
    "phone",
    "phone_kind",
    "phone_alt",
    "phone_alt_kind",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "preferred_language",
    "interpreter_needed",
    "preferred_contact",
    "consent_sms",
    "consent_email",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "guarantor_relationship",
    "guarantor_name",
    "guarantor_phone",
    "alerts",
    "alert_note",
    "confidentiality",
)


@dataclass(frozen=True)
class DuplicateDecision:
    """The officer's answer to a likely duplicate: a different person, and why."""

    override_reason: str


class DuplicateDecisionRequiredError(Exception):
    """A likely existing patient was found and the officer has not decided."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        super().__init__("a likely existing patient needs a decision")
        self.candidates = candidates


def _summary(candidates: list[DuplicateCandidate]) -> list[dict[str, Any]]:
    return [
        {"patient_id": c.patient.pk, "mrn": c.patient.mrn, "score": round(c.result.score, 2)}
        for c in candidates[:5]
    ]


@transaction.atomic
def patient_register(
    *,
    context: AuditContext,
    clinic: Clinic,
    data: dict[str, Any],
    decision: DuplicateDecision | None = None,
    address_confirmed: bool = True,
) -> Patient:
    """Create a patient after the duplicate check. `address_confirmed` says the address was
    read back with the patient today (not so for records imported from another system).

    Raises DuplicateDecisionRequiredError when a candidate scores at or above the
    existing-patient threshold and no override (with a reason) was given. The check runs again
    here, inside the transaction, whatever the form showed earlier.
    """
    record = person_record_from_data(data)
    candidates = duplicate_candidates(clinic_id=clinic.pk, record=record)
    strong = [c for c in candidates if c.result.score >= EXISTING_PATIENT_THRESHOLD]
    if strong and (decision is None or not decision.override_reason.strip()):
        raise DuplicateDecisionRequiredError(strong)
    now = timezone.now()
    (mrn,) = mrn_reserve(1)
    patient = Patient(
        clinic=clinic,
        mrn=mrn,
        created_at=now,
        updated_at=now,
        address_confirmed_on=(
            timezone.localdate() if address_confirmed and data.get("address_line1") else None
        ),
        **{name: data[name] for name in PATIENT_FIELDS if name in data},
    )
    patient_derive_fields(patient).save(force_insert=True)
    family_names_register([patient.family_norm])
    if data.get("previous_family_name"):
        alias = alias_derive_fields(
            PatientAlias(
                patient=patient,
                kind=PatientAlias.Kind.PREVIOUS,
                family_name=data["previous_family_name"],
                given_name=data.get("previous_given_name") or "",
            )
        )
        alias.save()
        family_names_register([alias.family_norm])
    detail: dict[str, Any] = {"duplicate_candidates": _summary(candidates)}
    if strong and decision is not None:
        detail["duplicate_override_reason"] = decision.override_reason.strip()
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk, *(c.patient.pk for c in strong)],
        object_type="patient",
        object_id=patient.pk,
        detail=detail,
    )
    return patient


def patient_duplicate_choice_record(
    *, context: AuditContext, existing: Patient, candidates: list[DuplicateCandidate]
) -> None:
    """Audit the officer's choice "this is the existing patient" (no record is created)."""
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[existing.pk],
        object_type="duplicate_decision",
        object_id=existing.pk,
        detail={"decision": "existing_patient", "candidates": _summary(candidates)},
    )


@transaction.atomic
def coverage_save(
    *, context: AuditContext, patient: Patient, coverage: Coverage, is_new: bool
) -> Coverage:
    """Add or change one insurance coverage of a patient."""
    coverage.patient = patient
    coverage.save()
    Patient.objects.filter(pk=patient.pk).update(updated_at=timezone.now())
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type="coverage",
        object_id=coverage.pk,
        detail={"payer": coverage.payer.name, "rank": coverage.rank},
    )
    return coverage


@transaction.atomic
def payer_save(*, context: AuditContext, payer: Payer) -> Payer:
    """Add or change a payer in the clinic's payer table (no PHI)."""
    is_new = payer.pk is None
    payer.save()
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        object_type="payer",
        object_id=payer.pk,
        detail={"name": payer.name},
    )
    return payer


@transaction.atomic
def break_glass_open(
    *, context: AuditContext, user: User, patient: Patient, reason: str
) -> BreakGlassGrant:
    """Open a restricted record for a while: a high-priority audit event and a notice to the
    clinic's supervisors record who, when and why."""
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        patient=patient,
        user=user,
        reason=reason.strip(),
        granted_at=now,
        expires_at=now + settings.BREAK_GLASS_DURATION,
    )
    audit_record(
        context=context,
        action=AuditAction.BREAK_GLASS,
        patient_ids=[patient.pk],
        object_type="patient",
        object_id=patient.pk,
        purpose=f"break the glass: {grant.reason}",
        detail={"expires_at": grant.expires_at.isoformat()},
        high_priority=True,
    )
    SupervisorNotice.objects.create(
        clinic_id=patient.clinic_id,
        created_at=now,
        patient=patient,
        text=(
            f"{user.get_full_name() or user.username} opened restricted record MRN "
            f"{patient.mrn}: {grant.reason}"
        )[:300],
    )
    return grant


@transaction.atomic
def supervisor_notice_acknowledge(*, user: User, notice: SupervisorNotice) -> None:
    SupervisorNotice.objects.filter(pk=notice.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )


def patient_field_reveal(*, context: AuditContext, patient: Patient, field: str) -> str:
    """The unmasked value of a field masked on list screens; every reveal is audited."""
    value = {
        "birth_date": patient.birth_date.strftime("%b %-d, %Y"),
        "phone": patient.phone or "—",
    }[field]
    audit_record(
        context=context,
        action=AuditAction.REVEAL,
        patient_ids=[patient.pk],
        object_type="patient",
        object_id=patient.pk,
        detail={"field": field},
    )
    return value
