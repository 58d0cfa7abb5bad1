"""What complaints put on the desk queue, and the supervisors' trend numbers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.complaints.models import Category, Complaint
from frontdesk.complaints.selectors import complaint_trends
from frontdesk.complaints.services import (
    complaint_acknowledge,
    complaint_respond,
    privacy_review_close,
)
from frontdesk.complaints.tests.conftest import LogComplaint, context_of
from frontdesk.desk.pools import Pool
from frontdesk.desk.selectors import desk_page, desk_row
from frontdesk.desk.sources import ROW_FIELDS, desk_sources

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _queue(clinic_id: int, kind: str) -> list[dict[str, object]]:
    source = desk_sources()[kind]
    return list(source.rows(clinic_id=clinic_id, now=timezone.now()))


def test_the_sources_are_registered_for_supervisors_only() -> None:
    sources = desk_sources()
    for kind in ("complaint", "grievance", "privacy_review"):
        assert sources[kind].roles == {"supervisor"}


def test_a_grievance_moves_through_the_queue_and_leaves_it_when_answered(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    patient = make_patient(personas.clinic)
    grievance = log_complaint(patient=patient)
    log_complaint(resolved_at_desk=True, apologised=True)  # never on the queue
    (row,) = _queue(personas.clinic.pk, "complaint")
    assert tuple(row) == ROW_FIELDS
    assert row["ref"] == grievance.pk
    assert row["patient_id"] == patient.pk
    assert row["due"] == grievance.acknowledge_due
    assert row["owner_id"] is None
    assert row["pool"] == Pool.SUPERVISORS
    assert row["red_flag"] is False or row["red_flag"] == 0
    entry = desk_sources()["complaint"].describe([grievance.pk], now=timezone.now())[grievance.pk]
    assert entry.url == reverse("complaints:detail", args=[grievance.pk])
    assert "Waited" not in entry.title + entry.detail  # no words of the complaint itself

    supervisor = context_of(personas.supervisor)
    complaint_acknowledge(context=supervisor, user=personas.supervisor, complaint=grievance)
    assert _queue(personas.clinic.pk, "complaint") == []
    (row,) = _queue(personas.clinic.pk, "grievance")
    assert row["due"] == grievance.response_due
    assert row["owner_id"] == personas.supervisor.pk

    complaint_respond(
        context=supervisor, user=personas.supervisor, complaint=grievance, body="We are sorry."
    )
    assert _queue(personas.clinic.pk, "grievance") == []


def test_a_privacy_review_is_on_the_queue_until_closed(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    complaint = log_complaint(category=Category.PRIVACY, resolved_at_desk=True, explained=True)
    (row,) = _queue(personas.clinic.pk, "privacy_review")
    assert row["patient_id"] is None
    privacy_review_close(
        context=context_of(personas.supervisor),
        user=personas.supervisor,
        complaint=complaint,
        finding="Nothing was disclosed.",
    )
    assert _queue(personas.clinic.pk, "privacy_review") == []


def test_another_clinics_grievances_are_not_on_this_clinics_queue(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    log_complaint(user=personas.outsider)
    assert _queue(personas.clinic.pk, "complaint") == []
    assert len(_queue(personas.other_clinic.pk, "complaint")) == 1


def test_the_trends_count_by_month_and_category_in_the_clinics_zone(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    personas.clinic.time_zone = "America/New_York"
    personas.clinic.save()
    now = dt.datetime(2026, 12, 15, 12, 0, tzinfo=NEW_YORK).astimezone(dt.UTC)
    # 21:00 on November 30 in New York is December 1 in UTC: it counts in November.
    late_november = dt.datetime(2026, 11, 30, 21, 0, tzinfo=NEW_YORK).astimezone(dt.UTC)
    log_complaint(now=late_november, category=Category.BILLING)
    log_complaint(
        now=late_november, category=Category.BILLING, resolved_at_desk=True, apologised=True
    )
    answered = log_complaint(now=now - dt.timedelta(days=10), category=Category.WAITING)
    complaint_respond(
        context=context_of(personas.supervisor),
        user=personas.supervisor,
        complaint=answered,
        body="We are sorry.",
        now=now - dt.timedelta(days=6),
    )
    log_complaint(now=now - dt.timedelta(hours=1), category=Category.WAITING)
    log_complaint(user=personas.outsider, now=now, category=Category.WAITING)  # not counted

    trends = complaint_trends(clinic_id=personas.clinic.pk, now=now)
    by_month = {m.month: m for m in trends.months}
    assert len(trends.months) == 12
    order = list(Category.values)
    november, december = by_month[dt.date(2026, 11, 1)], by_month[dt.date(2026, 12, 1)]
    assert november.by_category[order.index("billing")] == 2
    assert november.total == 2 and november.at_desk == 1
    assert december.by_category[order.index("waiting")] == 2
    assert december.total == 2
    assert december.median_days == 4.0
    # Open past deadline now: the November grievance (7 days), not the one logged an hour ago.
    assert trends.open_past_deadline == 1
    assert trends.open_past_deadline_by_category[order.index("billing")] == 1
    assert trends.largest == 2


def test_the_trends_page_shows_the_chart_and_the_same_numbers(
    personas: Personas, log_complaint: LogComplaint, client: Client
) -> None:
    for _ in range(3):
        log_complaint(category=Category.FACILITIES)
    page = login_client(client, personas.supervisor).get(reverse("complaints:trends"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and 'class="cat-6"' in body
    assert "Facilities: 3" in body  # the chart's bar
    assert "<td>3</td>" in body  # the table's cell


def test_the_complaints_list_takes_a_fixed_number_of_queries(
    personas: Personas, log_complaint: LogComplaint, client: Client
) -> None:
    officer = login_client(client, personas.supervisor)
    log_complaint(patient=make_patient(personas.clinic))
    officer.get(reverse("complaints:list"))
    with CaptureQueriesContext(connection) as few:
        officer.get(reverse("complaints:list"))
    for _ in range(5):
        log_complaint(patient=make_patient(personas.clinic), owner=personas.supervisor)
    with CaptureQueriesContext(connection) as many:
        response = officer.get(reverse("complaints:list"))
    assert response.status_code == 200
    assert Complaint.objects.count() == 6
    assert len(many) == len(few)


def test_the_desk_can_leave_a_complaint_off_the_queue_of_a_supervisor_it_names(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    naming = log_complaint(category=Category.PRIVACY, staff_involved=[personas.supervisor])
    other = log_complaint()
    sources = desk_sources()
    complaint_refs = [naming.pk, other.pk]
    hidden = sources["complaint"].refs_hidden_from(  # type: ignore[attr-defined]
        complaint_refs, user_id=personas.supervisor.pk
    )
    assert hidden == {naming.pk}
    review_refs = [row["ref"] for row in _queue(personas.clinic.pk, "privacy_review")]
    assert sources["privacy_review"].refs_hidden_from(  # type: ignore[attr-defined]
        review_refs, user_id=personas.supervisor.pk
    ) == set(review_refs)
    assert (
        sources["privacy_review"].refs_hidden_from(  # type: ignore[attr-defined]
            review_refs, user_id=personas.front_desk.pk
        )
        == set()
    )


def test_a_supervisor_named_in_a_complaint_never_sees_it_on_the_desk_queue(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    naming = log_complaint(staff_involved=[personas.supervisor])
    other = log_complaint()
    now = timezone.now()
    shown = desk_page(user=personas.supervisor, now=now, kind="complaint")
    assert [(row.kind, row.ref) for row in shown.rows] == [("complaint", other.pk)]
    assert shown.total == 1
    assert desk_row(user=personas.supervisor, kind="complaint", ref=naming.pk, now=now) is None
    # Another supervisor sees both.
    second = staff_create(
        clinic=personas.clinic,
        username="sam",
        password="a long enough password 1",
        role=Role.SUPERVISOR,
        first_name="Sam",
    )
    both = desk_page(user=second, now=now, kind="complaint")
    assert {row.ref for row in both.rows} == {naming.pk, other.pk}
    assert desk_row(user=second, kind="complaint", ref=naming.pk, now=now) is not None


def test_a_restricted_records_complaint_is_named_by_its_mrn_alone_on_the_desk_queue(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    patient = make_patient(personas.clinic)
    patient.confidentiality = "restricted"
    patient.save()
    grievance = log_complaint(patient=patient)
    entry = desk_sources()["complaint"].describe([grievance.pk], now=timezone.now())[grievance.pk]
    assert entry.patient_label == f"Restricted record · MRN {patient.mrn}"
    assert patient.family_name not in entry.patient_label
