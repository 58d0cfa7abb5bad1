"""What complaints put on the desk queue, derived from the complaints themselves:

- `complaint`: a grievance waiting for its acknowledgement (due in business days);
- `grievance`: an acknowledged grievance waiting for its written response;
- `privacy_review`: a privacy complaint the privacy officer has not reviewed yet.

Each goes to its owner (or reviewer) if it has one, else to the supervisors' pool, and leaves
the queue the moment it is acknowledged, answered or reviewed. Only supervisors see these kinds;
the words on the queue say what to do, never what the complaint says or whom it names.

A supervisor named in a complaint must not see it (complaints/selectors.py): each source here
offers `refs_hidden_from`, and the desk leaves such rows out of that person's queue and refuses
to open them (desk/selectors.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, CharField, F, QuerySet, Value

from frontdesk.accounts.roles import Role
from frontdesk.complaints.models import Complaint, ComplaintStatus, PrivacyReview
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import (
    ROW_FIELDS,
    DeskEntry,
    desk_patient_label,
    desk_source_register,
)
from frontdesk.lib.urls import id_url

_SUPERVISORS = frozenset({Role.SUPERVISOR})
_POOL = Value(Pool.SUPERVISORS.value, output_field=CharField())


def _patient_label(complaint: Complaint) -> str:
    patient = complaint.patient
    if patient is None:
        return complaint.complainant or "Anonymous visitor"
    return desk_patient_label(patient)


class _GrievanceStage:
    kind: str
    label: str
    status: ComplaintStatus
    due_field: str
    title: str
    roles = _SUPERVISORS

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Complaint.objects.filter(clinic_id=clinic_id, status=self.status)
            .annotate(
                ref=F("pk"),
                due=F(self.due_field),
                since=F("created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                pool=_POOL,
            )
            # `patient_id` and `owner_id` are the model's own columns.
            .values(*ROW_FIELDS)
        )
        return rows

    def refs_hidden_from(self, refs: Sequence[int], *, user_id: int) -> set[int]:
        """Which of these rows name this member of staff, who must not see them."""
        return set(
            Complaint.objects.filter(pk__in=refs, staff_involved=user_id).values_list(
                "pk", flat=True
            )
        )

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        complaints = Complaint.objects.filter(pk__in=refs).select_related("patient")
        return {
            c.pk: DeskEntry(
                title=self.title,
                url=id_url("complaints:detail", c.pk),
                patient_label=_patient_label(c),
                detail=f"{c.get_category_display()} complaint",
            )
            for c in complaints
        }


class ComplaintAcknowledgeSource(_GrievanceStage):
    kind = "complaint"
    label = "Complaints to acknowledge"
    status = ComplaintStatus.AWAITING_ACKNOWLEDGEMENT
    due_field = "acknowledge_due"
    title = "Acknowledge a grievance"


class GrievanceResponseSource(_GrievanceStage):
    kind = "grievance"
    label = "Grievances to answer in writing"
    status = ComplaintStatus.ACKNOWLEDGED
    due_field = "response_due"
    title = "Write the response to a grievance"


class PrivacyReviewSource:
    kind = "privacy_review"
    label = "Privacy reviews"
    roles = _SUPERVISORS

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            PrivacyReview.objects.filter(complaint__clinic_id=clinic_id, closed_at__isnull=True)
            .annotate(
                ref=F("pk"),
                patient_id=F("complaint__patient_id"),
                since=F("opened_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=F("reviewer"),
                pool=_POOL,
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def refs_hidden_from(self, refs: Sequence[int], *, user_id: int) -> set[int]:
        """Which of these reviews are of complaints naming this member of staff."""
        return set(
            PrivacyReview.objects.filter(
                pk__in=refs, complaint__staff_involved=user_id
            ).values_list("pk", flat=True)
        )

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        reviews = PrivacyReview.objects.filter(pk__in=refs).select_related("complaint__patient")
        return {
            r.pk: DeskEntry(
                title="Review a privacy complaint",
                url=id_url("complaints:detail", r.complaint_id),
                patient_label=_patient_label(r.complaint),
                detail="Privacy officer's review",
            )
            for r in reviews
        }


def register() -> None:
    desk_source_register(ComplaintAcknowledgeSource())
    desk_source_register(GrievanceResponseSource())
    desk_source_register(PrivacyReviewSource())
