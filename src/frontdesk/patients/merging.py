"""Merging a duplicate record into its survivor, and undoing it.

Every record that points at the duplicate moves to the survivor in one transaction, whatever
app it belongs to: the relations are found from the model metadata, so appointments, documents
and balances added later move too. Access records (break-the-glass grants, notices) and the
merge history stay where they are. Household links stay with the duplicate too (its
household is history once merged): the survivor gets a link of its own to each active member,
and the undo removes those again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.patients.indexing import family_names_register, patient_derive_fields
from frontdesk.patients.models import (
    BreakGlassGrant,
    Coverage,
    HouseholdLink,
    Patient,
    PatientMerge,
    SupervisorNotice,
)

# Fields the supervisor chooses between, in groups that must stay together.
MERGE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Name", ("given_name", "middle_name", "family_name", "suffix", "preferred_name")),
    ("Birth date", ("birth_date",)),
    ("Sex and identity", ("sex", "gender_identity", "pronouns")),
    ("Main phone", ("phone", "phone_kind")),
    ("Other phone", ("phone_alt", "phone_alt_kind")),
    ("Email", ("email",)),
    (
        "Address",
        (
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "country",
            "address_confirmed_on",
        ),
    ),
    ("Language", ("preferred_language", "interpreter_needed")),
    ("Contact preferences", ("preferred_contact", "consent_sms", "consent_email")),
    (
        "Emergency contact",
        ("emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"),
    ),
    ("Guarantor", ("guarantor_relationship", "guarantor_name", "guarantor_phone")),
    ("Alerts", ("alerts", "alert_note")),
    ("Confidentiality", ("confidentiality",)),
)
MERGE_FIELDS = tuple(name for _label, names in MERGE_GROUPS for name in names)
# Relations that record access or history rather than belong to the person's record.
# Household links are pairs stored in order, once: they are copied to the survivor instead.
_STAYING: set[type[models.Model]] = {
    BreakGlassGrant,
    SupervisorNotice,
    PatientMerge,
    HouseholdLink,
}
_HOUSEHOLD_KEY = "patients.HouseholdLink:created"


class MergeRefusedError(Exception):
    """The merge cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class MergeGroupChoice:
    label: str
    fields: tuple[str, ...]
    survivor_values: tuple[Any, ...]
    merged_values: tuple[Any, ...]

    @property
    def differs(self) -> bool:
        return self.survivor_values != self.merged_values


def merge_comparison(survivor: Patient, merged: Patient) -> list[MergeGroupChoice]:
    return [
        MergeGroupChoice(
            label,
            names,
            tuple(getattr(survivor, n) for n in names),
            tuple(getattr(merged, n) for n in names),
        )
        for label, names in MERGE_GROUPS
    ]


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _from_json(field: str, value: Any) -> Any:
    if value is not None and field in ("birth_date", "address_confirmed_on"):
        return dt.date.fromisoformat(value)
    return value


def _moving_relations() -> list[models.ForeignObjectRel]:
    return [
        rel
        for rel in Patient._meta.related_objects
        if rel.one_to_many and rel.related_model not in _STAYING and rel.field.name != "merged_into"
    ]


@transaction.atomic
def patient_merge(
    *,
    context: AuditContext,
    user: User,
    survivor: Patient,
    merged: Patient,
    take_from_merged: set[str],
    reason: str = "",
) -> PatientMerge:
    """Fold `merged` into `survivor`. `take_from_merged` names the groups (by label) whose
    values come from the merged record; the rest keep the survivor's."""
    survivor = Patient.objects.select_for_update().get(pk=survivor.pk)
    merged = Patient.objects.select_for_update().get(pk=merged.pk)
    if survivor.pk == merged.pk:
        raise MergeRefusedError("Choose two different records.")
    if not survivor.is_active or not merged.is_active:
        raise MergeRefusedError("One of these records is already merged or inactive.")
    if survivor.clinic_id != merged.clinic_id:
        raise MergeRefusedError("Records of different clinics cannot be merged.")

    before = {name: _json_value(getattr(survivor, name)) for name in MERGE_FIELDS}
    for label, names in MERGE_GROUPS:
        if label in take_from_merged:
            for name in names:
                setattr(survivor, name, getattr(merged, name))
    now = timezone.now()
    survivor.updated_at = now
    if survivor.last_visit_on is None or (
        merged.last_visit_on and merged.last_visit_on > survivor.last_visit_on
    ):
        before["last_visit_on"] = _json_value(survivor.last_visit_on)
        survivor.last_visit_on = merged.last_visit_on
    patient_derive_fields(survivor).save()
    family_names_register([survivor.family_norm])

    moved: dict[str, list[list[Any]]] = {}
    next_rank = 1 + max(survivor.coverages.values_list("rank", flat=True), default=0)
    for rel in _moving_relations():
        model = rel.related_model
        key = f"{model._meta.label}:{rel.field.name}"
        rows = list(
            model._default_manager.filter(**{rel.field.name: merged}).values_list("pk", flat=True)
        )
        if not rows:
            continue
        if model is Coverage:
            # Keep the survivor's coverage order; the duplicate's come after it.
            entries = []
            for coverage in Coverage.objects.filter(pk__in=rows).order_by("rank"):
                entries.append([coverage.pk, coverage.rank])
                Coverage.objects.filter(pk=coverage.pk).update(patient=survivor, rank=next_rank)
                next_rank += 1
            moved[key] = entries
        else:
            model._default_manager.filter(pk__in=rows).update(**{rel.field.name: survivor})
            moved[key] = [[pk, None] for pk in rows]
    # Records merged into the duplicate earlier now resolve to the survivor directly.
    earlier = list(Patient.objects.filter(merged_into=merged).values_list("pk", flat=True))
    Patient.objects.filter(pk__in=earlier).update(merged_into=survivor)
    moved["patients.Patient:merged_into"] = [[pk, None] for pk in earlier]

    household = _household_follow(user=user, survivor=survivor, merged=merged, now=now)
    if household:
        moved[_HOUSEHOLD_KEY] = [[pk, None] for pk in household]
    merged.is_active = False
    merged.merged_into = survivor
    merged.updated_at = now
    merged.save(update_fields=["is_active", "merged_into", "updated_at"])
    record = PatientMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_at=now,
        merged_by=user,
        reason=reason.strip(),
        survivor_before=before,
        moved=moved,
    )
    audit_record(
        context=context,
        action=AuditAction.MERGE,
        patient_ids=[survivor.pk, merged.pk],
        object_type=AuditObject.PATIENT_MERGE,
        object_id=record.pk,
        detail={
            "survivor_mrn": survivor.mrn,
            "merged_mrn": merged.mrn,
            "taken_from_merged": sorted(take_from_merged),
            "moved": {k: len(v) for k, v in moved.items()},
            "reason": record.reason,
        },
    )
    return record


@transaction.atomic
def patient_unmerge(*, context: AuditContext, user: User, merge: PatientMerge) -> Patient:
    """Undo a merge: the survivor's fields and every moved record go back as they were."""
    merge = PatientMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeRefusedError("This merge was already undone.")
    later = PatientMerge.objects.filter(
        survivor_id=merge.survivor_id, merged_at__gt=merge.merged_at, undone_at__isnull=True
    )
    if later.exists():
        raise MergeRefusedError("Undo the later merges into this record first.")
    survivor = Patient.objects.select_for_update().get(pk=merge.survivor_id)
    merged = Patient.objects.select_for_update().get(pk=merge.merged_id)
    for name, value in merge.survivor_before.items():
        setattr(survivor, name, _from_json(name, value))
    survivor.updated_at = timezone.now()
    patient_derive_fields(survivor).save()
    for key, entries in merge.moved.items():
        if key == _HOUSEHOLD_KEY:
            # The survivor's copies of the duplicate's links; the duplicate's own never moved.
            HouseholdLink.objects.filter(pk__in=[pk for pk, _ in entries]).delete()
            continue
        label, field = key.split(":")
        if label == "patients.Patient" and field == "merged_into":
            Patient.objects.filter(pk__in=[pk for pk, _ in entries]).update(merged_into=merged)
            continue
        model = apps.get_model(label)
        if model is Coverage:
            for pk, rank in entries:
                Coverage.objects.filter(pk=pk).update(patient=merged, rank=rank)
        else:
            model._default_manager.filter(pk__in=[pk for pk, _ in entries]).update(
                **{field: merged}
            )
    # Money written while merged for a visit that has just gone back (a co-pay charged and
    # paid at check-in on the survivor's record) follows the visit to the restored patient.
    ledger_entry = apps.get_model("billing", "LedgerEntry")
    visit_money_back = ledger_entry._default_manager.filter(
        patient_id=survivor.pk, appointment__patient_id=merged.pk
    ).update(patient_id=merged.pk)
    merged.is_active = True
    merged.merged_into = None
    merged.updated_at = timezone.now()
    merged.save(update_fields=["is_active", "merged_into", "updated_at"])
    merge.undone_at = timezone.now()
    merge.undone_by = user
    merge.save(update_fields=["undone_at", "undone_by"])
    audit_record(
        context=context,
        action=AuditAction.UNMERGE,
        patient_ids=[survivor.pk, merged.pk],
        object_type=AuditObject.PATIENT_MERGE,
        object_id=merge.pk,
        detail={
            "survivor_mrn": survivor.mrn,
            "restored_mrn": merged.mrn,
            "ledger_entries_returned_with_visits": visit_money_back,
        },
    )
    return merged


def _household_follow(
    *, user: User, survivor: Patient, merged: Patient, now: dt.datetime
) -> list[int]:
    """Link the survivor to each active household member of the duplicate it is not linked to
    yet (nor is itself): the ids of the links made."""
    linked = {
        link.other(survivor.pk).pk
        for link in HouseholdLink.objects.filter(
            models.Q(patient_low=survivor) | models.Q(patient_high=survivor)
        ).select_related("patient_low", "patient_high")
    }
    made = []
    for link in HouseholdLink.objects.filter(
        models.Q(patient_low=merged) | models.Q(patient_high=merged)
    ).select_related("patient_low", "patient_high"):
        member = link.other(merged.pk)
        if member.pk == survivor.pk or member.pk in linked or not member.is_active:
            continue
        linked.add(member.pk)
        made.append(
            HouseholdLink.objects.create(
                clinic_id=survivor.clinic_id,
                patient_low_id=min(survivor.pk, member.pk),
                patient_high_id=max(survivor.pk, member.pk),
                found_by=link.found_by,
                created_at=now,
                created_by=user,
            ).pk
        )
    return made
