"""Reads of complaints, with the confidentiality rule built in.

Who sees a complaint (one rule, `complaints_visible`, used by every read):
- only staff of the complaint's clinic;
- never a member of staff named in it, whatever their role: a supervisor named in a complaint
  does not see it either, and the other supervisors handle it (so a named supervisor cannot be
  its owner or its privacy reviewer);
- otherwise supervisors, its owner, its privacy reviewer and the person who logged it.
Everyone else gets a 404, as for a record of another clinic.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import AuditContext
from frontdesk.complaints.models import (
    OPEN_STATUSES,
    Category,
    Complaint,
    ComplaintSettings,
    ComplaintStatus,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.selectors import patient_access_check, patients_shown


def complaint_settings(clinic_id: int) -> ComplaintSettings:
    """The clinic's deadlines and privacy officer (the defaults if it set none)."""
    held = ComplaintSettings.objects.filter(clinic_id=clinic_id).first()
    return held if held is not None else ComplaintSettings(clinic_id=clinic_id)


def complaints_visible(user: User) -> QuerySet[Complaint]:
    """The complaints this member of staff may see (the rule in this module's docstring)."""
    if user.clinic_id is None:
        return Complaint.objects.none()
    complaints = Complaint.objects.filter(clinic_id=user.clinic_id).exclude(staff_involved=user)
    if user.role != Role.SUPERVISOR:
        complaints = complaints.filter(
            Q(owner=user) | Q(logged_by=user) | Q(privacy_review__reviewer=user)
        )
    return complaints


def access_complaint(user: User, complaint_id: int) -> Complaint:
    """The complaint if this user may see it, else 404; its patient's own rules apply too (a
    restricted record needs the glass broken)."""
    complaint = (
        complaints_visible(user)
        .select_related("patient", "owner", "logged_by")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise Http404("No such complaint")
    if complaint.patient is not None:
        patient_access_check(user, complaint.patient)
    return complaint


def supervisors_of_clinic(clinic_id: int | None) -> QuerySet[User]:
    """Who may own a grievance: the clinic's active supervisors."""
    if clinic_id is None:
        return User.objects.none()
    return User.objects.filter(clinic_id=clinic_id, role=Role.SUPERVISOR, is_active=True).order_by(
        "last_name", "first_name", "username"
    )


def staff_of_clinic_active(clinic_id: int | None) -> QuerySet[User]:
    """The staff a complaint can name: the clinic's active staff."""
    if clinic_id is None:
        return User.objects.none()
    return User.objects.filter(clinic_id=clinic_id, is_active=True).order_by(
        "last_name", "first_name", "username"
    )


def complaint_list_for_view(
    user: User, *, context: AuditContext, open_only: bool
) -> list[Complaint]:
    """The complaints this user may see, newest first (open grievances only if asked); the
    patients named are a look at their records."""
    complaints = complaints_visible(user).select_related("patient", "owner")
    if open_only:
        complaints = complaints.filter(status__in=OPEN_STATUSES)
    shown = list(complaints.order_by("-created_at", "-pk")[:200])
    patient_ids = [c.patient_id for c in shown if c.patient_id is not None]
    patients_shown(context=context, patient_ids=patient_ids, page=AuditObject.COMPLAINT_LIST)
    return shown


@dataclass(frozen=True)
class ComplaintPage:
    complaint: Complaint
    staff_named: list[User]
    events: list[object]
    has_letter: bool
    review: object | None


def complaint_for_view(user: User, *, context: AuditContext, complaint_id: int) -> ComplaintPage:
    """One complaint with its history, as its page shows it; recorded as a look at it."""
    complaint = access_complaint(user, complaint_id)
    page = ComplaintPage(
        complaint=complaint,
        staff_named=list(complaint.staff_involved.order_by("last_name", "first_name")),
        events=list(complaint.events.select_related("by")),
        has_letter=hasattr(complaint, "letter"),
        review=getattr(complaint, "privacy_review", None),
    )
    patients_shown(
        context=context,
        patient_ids=[complaint.patient_id] if complaint.patient_id else [],
        page=AuditObject.COMPLAINT,
        object_id=complaint.pk,
    )
    return page


def complaint_letter_for_view(
    user: User, *, context: AuditContext, complaint_id: int
) -> tuple[Complaint, bytes]:
    """The response letter's PDF, recorded as printed (it holds the patient's name)."""
    complaint = access_complaint(user, complaint_id)
    letter = getattr(complaint, "letter", None)
    if letter is None:
        raise Http404("No letter yet")
    patients_shown(
        context=context,
        patient_ids=[complaint.patient_id] if complaint.patient_id else [],
        page=AuditObject.COMPLAINT_LETTER,
        object_id=complaint.pk,
        printed=True,
    )
    return complaint, bytes(letter.pdf)


def complaint_due(complaint: Complaint) -> dt.datetime | None:
    """The deadline a grievance is working to now: the acknowledgement, then the response."""
    if complaint.status == ComplaintStatus.AWAITING_ACKNOWLEDGEMENT:
        return complaint.acknowledge_due
    if complaint.status == ComplaintStatus.ACKNOWLEDGED:
        return complaint.response_due
    return None


# --- Trends ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    month: dt.date  # the first of the month, in the clinic's zone
    by_category: tuple[int, ...]  # in the order of `Category`
    total: int
    at_desk: int
    median_days: float | None  # grievances responded to that month: median days to respond


@dataclass(frozen=True)
class Trends:
    categories: tuple[str, ...]
    months: list[MonthRow]
    open_past_deadline: int
    open_past_deadline_by_category: tuple[int, ...]
    largest: int  # the largest monthly total, for the chart's scale


def _month_back(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def complaint_trends(*, clinic_id: int, now: dt.datetime, months: int = 12) -> Trends:
    """Complaints of the clinic by month (its own zone) and category, time to resolution, and
    grievances open past their deadline now. Counts every complaint, whoever is named in it:
    the numbers carry no one's words."""
    zone = clinic_zone(clinic_id)
    this_month = now.astimezone(zone).date().replace(day=1)
    first = _month_back(this_month, months - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    rows = Complaint.objects.filter(clinic_id=clinic_id, created_at__gte=start).values_list(
        "created_at", "category", "status", "resolved_at"
    )
    order = list(Category.values)
    counts: dict[dt.date, Counter[str]] = {}
    at_desk: Counter[dt.date] = Counter()
    for created_at, category, status, _ in rows:
        month = created_at.astimezone(zone).date().replace(day=1)
        counts.setdefault(month, Counter())[category] += 1
        if status == ComplaintStatus.RESOLVED_AT_DESK:
            at_desk[month] += 1
    durations: dict[dt.date, list[float]] = {}
    responded = Complaint.objects.filter(
        clinic_id=clinic_id, status=ComplaintStatus.RESPONDED, resolved_at__gte=start
    ).values_list("created_at", "resolved_at")
    for created_at, resolved_at in responded:
        if resolved_at is None:
            continue
        month = resolved_at.astimezone(zone).date().replace(day=1)
        durations.setdefault(month, []).append((resolved_at - created_at).total_seconds() / 86400)
    month_rows = []
    for back in range(months - 1, -1, -1):
        month = _month_back(this_month, back)
        counted = counts.get(month, Counter())
        days = durations.get(month)
        month_rows.append(
            MonthRow(
                month=month,
                by_category=tuple(counted[c] for c in order),
                total=sum(counted.values()),
                at_desk=at_desk[month],
                median_days=round(statistics.median(days), 1) if days else None,
            )
        )
    late = Complaint.objects.filter(clinic_id=clinic_id).filter(
        Q(status=ComplaintStatus.AWAITING_ACKNOWLEDGEMENT, acknowledge_due__lt=now)
        | Q(status=ComplaintStatus.ACKNOWLEDGED, response_due__lt=now)
    )
    late_counts = Counter(late.values_list("category", flat=True))
    return Trends(
        categories=tuple(Category.labels),
        months=month_rows,
        open_past_deadline=sum(late_counts.values()),
        open_past_deadline_by_category=tuple(late_counts[c] for c in order),
        largest=max((m.total for m in month_rows), default=0),
    )
