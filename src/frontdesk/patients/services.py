"""Writes to the patient index. Each service records its own audit event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.ids import parse_id
from frontdesk.patients import validation
from frontdesk.patients.card_storage import card_files_remove_on_commit
from frontdesk.patients.duplicates import (
    DuplicateCandidate,
    duplicate_check,
    person_record_from_data,
)
from frontdesk.patients.indexing import (
    alias_derive_fields,
    family_names_register,
    patient_derive_fields,
)
from frontdesk.patients.matching.verdict import EXISTING_PATIENT_THRESHOLD
from frontdesk.patients.models import (
    CARD_FIELDS,
    BreakGlassGrant,
    Coverage,
    CoverageRank,
    HouseholdLink,
    HouseholdLinkSource,
    IdentityDocument,
    Patient,
    PatientAddress,
    PatientAlias,
    Payer,
    SupervisorNotice,
)
from frontdesk.patients.mrn import mrn_reserve
from frontdesk.patients.selectors import identity_document_holder_id

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


def _clinic_today(clinic: Clinic | int) -> dt.date:
    """Today in the clinic's time zone, wherever the service is called from (a page, the import,
    the worker): an address confirmed at 20:00 in New York is confirmed that day, not the next."""
    return timezone.localdate(timezone=clinic_zone(clinic))


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
    extra_address: dict[str, Any] | None = None,
    identity_document: dict[str, Any] | None = None,
    coverage: dict[str, Any] | None = None,
    warnings_need_reason: bool = False,
    link_household: bool = False,
) -> Patient:
    """Create a patient after the duplicate check. `address_confirmed` says the address was
    read back with the patient today (not so for records imported from another system).
    `extra_address` and `identity_document` are the cleaned data of the optional blocks of
    the registration page (PatientAddressForm, IdentityDocumentForm); `coverage` that of its
    insurance block (RegistrationCoverageForm, the chart's rules without the card pictures),
    saved as the primary coverage through `coverage_save`, with its own audit event.

    Raises IdentityDocumentTakenError when the document is on another patient's record; the
    whole registration is then undone.

    Raises DuplicateDecisionRequiredError when a candidate scores at or above the
    existing-patient threshold and no override (with a reason) was given; with
    `warnings_need_reason` (the registration page, which shows every candidate side by side),
    any candidate above the warning threshold needs the reason too. The check runs again
    here, inside the transaction, whatever the form showed earlier.

    With `link_household` (the registration page, which shows household members as a family
    note), the new record is linked to each household member that check finds, with one
    audit event of its own naming them all.
    """
    record = person_record_from_data(data)
    check = duplicate_check(clinic_id=clinic.pk, record=record)
    candidates = check.candidates
    strong = [
        c
        for c in candidates
        if warnings_need_reason or c.result.score >= EXISTING_PATIENT_THRESHOLD
    ]
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
            _clinic_today(clinic) if address_confirmed and data.get("address_line1") else None
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
    if extra_address:
        address = _address_insert(patient=patient, data=extra_address, now=now)
        detail["address"] = {"id": address.pk, "kind": address.kind}
    if identity_document:
        document = _document_write(
            IdentityDocument(patient=patient, clinic_id=patient.clinic_id, created_at=now),
            data=identity_document,
            now=now,
        )
        detail["identity_document"] = {"id": document.pk, "kind": document.kind}
    if strong and decision is not None:
        detail["duplicate_override_reason"] = decision.override_reason.strip()
    new_coverage = _coverage_new(clinic=clinic, data=coverage) if coverage else None
    if new_coverage is not None:
        detail["coverage"] = {"payer": new_coverage.payer.name, "rank": new_coverage.rank}
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk, *(c.patient.pk for c in strong)],
        object_type=AuditObject.PATIENT,
        object_id=patient.pk,
        detail=detail,
    )
    if new_coverage is not None:
        # The chart's own write, with its CREATE event for the coverage; a failure there
        # undoes the whole registration.
        coverage_save(context=context, patient=patient, coverage=new_coverage, is_new=True)
    if link_household and check.household:
        _household_link_new(
            context=context,
            patient=patient,
            members=[c.patient for c in check.household],
            now=now,
        )
    return patient


def _household_link_new(
    *, context: AuditContext, patient: Patient, members: list[Patient], now: dt.datetime
) -> list[HouseholdLink]:
    """Link a patient just registered to the household members the check found."""
    links = [
        HouseholdLink.objects.create(
            clinic_id=patient.clinic_id,
            patient_low_id=min(patient.pk, member.pk),
            patient_high_id=max(patient.pk, member.pk),
            found_by=HouseholdLinkSource.REGISTRATION,
            created_at=now,
            created_by_id=context.actor_id,
        )
        for member in members
    ]
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        patient_ids=[patient.pk, *(m.pk for m in members)],
        object_type=AuditObject.HOUSEHOLD_LINK,
        object_id=patient.pk,
        detail={
            "found_by": HouseholdLinkSource.REGISTRATION.value,
            "links": [
                {"id": link.pk, "member_mrn": member.mrn}
                for link, member in zip(links, members, strict=True)
            ],
        },
    )
    return links


@transaction.atomic
def household_link_remove(
    *, context: AuditContext, patient: Patient, link: HouseholdLink, reason: str
) -> None:
    """Remove a wrong household link from `patient`'s chart; the event keeps the reason."""
    link = (
        HouseholdLink.objects.select_for_update()
        .select_related("patient_low", "patient_high")
        .get(pk=link.pk)
    )
    if patient.pk not in (link.patient_low_id, link.patient_high_id):
        raise ValueError("the link belongs to other patients")
    member = link.other(patient.pk)
    detail = {
        "removed": True,
        "member_mrn": member.mrn,
        "found_by": link.found_by,
        "created_at": link.created_at.isoformat(),
        "reason": reason.strip(),
    }
    link_id = link.pk
    link.delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk, member.pk],
        object_type=AuditObject.HOUSEHOLD_LINK,
        object_id=link_id,
        detail=detail,
    )


COVERAGE_FIELDS = (
    "payer",
    "plan_name",
    "member_id",
    "group_number",
    "subscriber_name",
    "relationship",
    "subscriber_birth_date",
    "effective_date",
    "end_date",
    "copay",
)


def _coverage_new(*, clinic: Clinic, data: dict[str, Any]) -> Coverage:
    """A new patient's first coverage, the primary one, from the insurance block's data.

    The member ID is checked against the payer's pattern here too, as the chart's form does,
    so a caller that skipped the form cannot store one the payer would refuse (ValidationError,
    in the payer's words); the dates' order and the co-pay's sign the database refuses."""
    payer = data["payer"]
    if not isinstance(payer, Payer) or payer.clinic_id != clinic.pk:
        raise ValueError("the payer is not one of the clinic's")
    values = {name: data[name] for name in COVERAGE_FIELDS if data.get(name) not in (None, "")}
    values["member_id"] = validation.clean_member_id(
        data.get("member_id") or "",
        pattern=payer.member_id_pattern,
        payer_name=payer.name,
        example=payer.member_id_example,
    )
    return Coverage(rank=CoverageRank.PRIMARY, **values)


def patient_duplicate_choice_record(
    *, context: AuditContext, existing: Patient, candidates: list[DuplicateCandidate]
) -> None:
    """Audit the officer's choice "this is the existing patient" (no record is created)."""
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[existing.pk],
        object_type=AuditObject.DUPLICATE_DECISION,
        object_id=existing.pk,
        detail={"decision": "existing_patient", "candidates": _summary(candidates)},
    )


@transaction.atomic
def coverage_save(
    *, context: AuditContext, patient: Patient, coverage: Coverage, is_new: bool
) -> Coverage:
    """Add or change one insurance coverage of a patient. A card file it replaces is removed
    from disk once the change is committed."""
    coverage.patient = patient
    if coverage.pk is None:
        coverage.save()
    else:
        # Django marks a file assigned but not yet written to storage `_committed = False`.
        uploaded = {
            name for name in CARD_FIELDS if not getattr(getattr(coverage, name), "_committed", True)
        }
        # Locked, so of two officers replacing the same card each removes the file it replaced;
        # a card not uploaded again is not written back, so neither undoes the other's.
        before = (
            Coverage.objects.select_for_update().values(*uploaded).get(pk=coverage.pk)
            if uploaded
            else {}
        )
        coverage.save(
            update_fields=[
                field.name
                for field in Coverage._meta.concrete_fields
                if not field.primary_key
                and not field.generated
                and (field.name not in CARD_FIELDS or field.name in uploaded)
            ]
        )
        card_files_remove_on_commit([old for old in before.values() if old])
    Patient.objects.filter(pk=patient.pk).update(updated_at=timezone.now())
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.COVERAGE,
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
        object_type=AuditObject.PAYER,
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
        object_type=AuditObject.PATIENT,
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


REVEALABLE_FIELDS = ("birth_date", "phone")
# A document number is revealed by the field name "document-<id>".
DOCUMENT_FIELD_PREFIX = "document-"


class NoSuchFieldError(Exception):
    """The field to reveal does not exist (or the document is not this patient's)."""


def patient_field_reveal(*, context: AuditContext, patient: Patient, field: str) -> str:
    """The unmasked value of a field masked on list screens or the chart; every reveal is
    audited. Raises NoSuchFieldError for anything else."""
    if field.startswith(DOCUMENT_FIELD_PREFIX):
        document_id = parse_id(field.removeprefix(DOCUMENT_FIELD_PREFIX))
        document = (
            IdentityDocument.objects.filter(patient=patient, pk=document_id).first()
            if document_id
            else None
        )
        if document is None:
            raise NoSuchFieldError(field)
        identity_document_reveal_record(context=context, document=document, purpose="reveal")
        return document.number
    if field not in REVEALABLE_FIELDS:
        raise NoSuchFieldError(field)
    value = patient.birth_date.strftime("%b %-d, %Y") if field == "birth_date" else patient.phone
    audit_record(
        context=context,
        action=AuditAction.REVEAL,
        patient_ids=[patient.pk],
        object_type=AuditObject.PATIENT,
        object_id=patient.pk,
        detail={"field": field},
    )
    return value or "—"


def identity_document_reveal_record(
    *, context: AuditContext, document: IdentityDocument, purpose: str
) -> None:
    """Audit that a document number was shown unmasked (revealed, or opened to be changed)."""
    audit_record(
        context=context,
        action=AuditAction.REVEAL,
        patient_ids=[document.patient_id],
        object_type=AuditObject.IDENTITY_DOCUMENT,
        object_id=document.pk,
        detail={"field": "number", "kind": document.kind, "shown_for": purpose},
    )


ADDRESS_FIELDS = (
    "kind",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "valid_from",
    "valid_until",
)
DOCUMENT_FIELDS = ("kind", "number", "issuing_country", "issuing_state", "expires_on")
_ADDRESS_DEFAULTS: dict[str, Any] = {"country": "US", "valid_from": None, "valid_until": None}
_DOCUMENT_DEFAULTS: dict[str, Any] = {"expires_on": None}


class IdentityDocumentTakenError(Exception):
    """The document is already on a record of the clinic. The message names no one."""

    def __init__(self, *, same_patient: bool = False) -> None:
        self.message = (
            "This patient already has this document on file."
            if same_patient
            else "This document is already on another patient's record; search for it."
        )
        super().__init__(self.message)


def _address_insert(*, patient: Patient, data: dict[str, Any], now: dt.datetime) -> PatientAddress:
    address = PatientAddress(patient=patient, created_at=now)
    return _address_write(address, data=data, now=now)


def _address_write(
    address: PatientAddress, *, data: dict[str, Any], now: dt.datetime
) -> PatientAddress:
    for name in ADDRESS_FIELDS:
        value = data.get(name)
        setattr(address, name, _ADDRESS_DEFAULTS.get(name, "") if value in (None, "") else value)
    # Typed at the desk with the patient there: read back and confirmed today.
    address.confirmed_on = _clinic_today(address.patient.clinic_id)
    address.updated_at = now
    address.save()
    return address


def _document_write(
    document: IdentityDocument, *, data: dict[str, Any], now: dt.datetime
) -> IdentityDocument:
    for name in DOCUMENT_FIELDS:
        value = data.get(name)
        setattr(
            document, name, value if value not in (None, "") else _DOCUMENT_DEFAULTS.get(name, "")
        )
    document.updated_at = now
    try:
        # A savepoint, so the caller's transaction survives the refusal and can report it.
        with transaction.atomic():
            document.save()
    except IntegrityError:
        holder = identity_document_holder_id(
            clinic_id=document.clinic_id,
            data={name: getattr(document, name) for name in DOCUMENT_FIELDS},
            excluding_document_id=document.pk,
        )
        if holder is None:
            raise
        raise IdentityDocumentTakenError(same_patient=holder == document.patient_id) from None
    return document


@transaction.atomic
def patient_address_save(
    *,
    context: AuditContext,
    patient: Patient,
    data: dict[str, Any],
    address: PatientAddress | None = None,
) -> PatientAddress:
    """Add a further address to a patient, or change one (`address` given)."""
    now = timezone.now()
    is_new = address is None
    if address is None:
        address = PatientAddress(patient=patient, created_at=now)
    elif address.patient_id != patient.pk:
        raise ValueError("the address belongs to another patient")
    _address_write(address, data=data, now=now)
    Patient.objects.filter(pk=patient.pk).update(updated_at=now)
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.PATIENT_ADDRESS,
        object_id=address.pk,
        detail={"kind": address.kind},
    )
    return address


@transaction.atomic
def patient_address_remove(
    *, context: AuditContext, patient: Patient, address: PatientAddress
) -> None:
    """Remove a further address (entered by mistake, or no longer wanted on file)."""
    if address.patient_id != patient.pk:
        raise ValueError("the address belongs to another patient")
    _part_remove(
        context=context, patient=patient, part=address, object_type=AuditObject.PATIENT_ADDRESS
    )


def _part_remove(
    *,
    context: AuditContext,
    patient: Patient,
    part: PatientAddress | IdentityDocument,
    object_type: AuditObject,
) -> None:
    """Delete one of the patient's own rows and record it as a change to the patient."""
    part_id, kind = part.pk, part.kind
    part.delete()
    Patient.objects.filter(pk=patient.pk).update(updated_at=timezone.now())
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=object_type,
        object_id=part_id,
        detail={"kind": kind, "removed": True},
    )


@transaction.atomic
def identity_document_save(
    *,
    context: AuditContext,
    patient: Patient,
    data: dict[str, Any],
    document: IdentityDocument | None = None,
) -> IdentityDocument:
    """Add an identity document to a patient, or change one (`document` given).

    Raises IdentityDocumentTakenError when another patient of the clinic holds the same
    document (the unique index decides, so two desks saving at once cannot both succeed)."""
    now = timezone.now()
    is_new = document is None
    if document is None:
        document = IdentityDocument(patient=patient, clinic_id=patient.clinic_id, created_at=now)
    elif document.patient_id != patient.pk:
        raise ValueError("the document belongs to another patient")
    _document_write(document, data=data, now=now)
    Patient.objects.filter(pk=patient.pk).update(updated_at=now)
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.IDENTITY_DOCUMENT,
        object_id=document.pk,
        detail={"kind": document.kind, "issuer": document.issuer},
    )
    return document


@transaction.atomic
def identity_document_remove(
    *, context: AuditContext, patient: Patient, document: IdentityDocument
) -> None:
    """Remove an identity document from the patient's record."""
    if document.patient_id != patient.pk:
        raise ValueError("the document belongs to another patient")
    _part_remove(
        context=context, patient=patient, part=document, object_type=AuditObject.IDENTITY_DOCUMENT
    )
