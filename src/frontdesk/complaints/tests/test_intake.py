"""Intake at the desk: resolved there, or escalated as a grievance with its deadlines."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.complaints.models import (
    TEXT_MAX,
    Category,
    Complaint,
    ComplaintSettings,
    ComplaintStatus,
    EventKind,
    PrivacyReview,
)
from frontdesk.complaints.services import ComplaintRefusedError
from frontdesk.complaints.tests.conftest import LogComplaint
from frontdesk.desk.live import desk_version
from frontdesk.scheduling.models import ClinicHoliday

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "occurred_on": "2026-12-01",
        "category": "waiting",
        "severity": "medium",
        "what_happened": "Waited ninety minutes; nobody said why.",
        "patient_wants": "To be told about delays.",
        "resolved_at_desk": "no",
    }
    data.update(overrides)
    return data


@pytest.fixture
def new_york(personas: Personas) -> Personas:
    personas.clinic.time_zone = "America/New_York"
    personas.clinic.save()
    return personas


def test_a_grievance_logged_on_a_friday_evening_is_acknowledged_by_tuesday_evening(
    new_york: Personas, log_complaint: LogComplaint
) -> None:
    # 22:00 on Friday in New York is already Saturday in UTC: the clinic's days count.
    friday_evening = dt.datetime(2026, 12, 4, 22, 0, tzinfo=NEW_YORK)
    complaint = log_complaint(now=friday_evening.astimezone(dt.UTC))
    assert complaint.status == ComplaintStatus.AWAITING_ACKNOWLEDGEMENT
    assert complaint.acknowledge_due == dt.datetime(2026, 12, 8, 22, 0, tzinfo=NEW_YORK)
    # The written response: 7 calendar days, as CMS asks of hospitals.
    assert complaint.response_due == dt.datetime(2026, 12, 11, 22, 0, tzinfo=NEW_YORK)


def test_the_clinics_holiday_moves_the_acknowledgement_a_day_later(
    new_york: Personas, log_complaint: LogComplaint
) -> None:
    ClinicHoliday.objects.create(clinic=new_york.clinic, date=dt.date(2026, 12, 7), name="Closed")
    friday = dt.datetime(2026, 12, 4, 10, 0, tzinfo=NEW_YORK)
    complaint = log_complaint(now=friday.astimezone(dt.UTC))
    assert complaint.acknowledge_due == dt.datetime(2026, 12, 9, 10, 0, tzinfo=NEW_YORK)


def test_a_clinic_sets_its_own_deadlines(new_york: Personas, log_complaint: LogComplaint) -> None:
    ComplaintSettings.objects.create(
        clinic=new_york.clinic, acknowledge_business_days=1, response_days=30
    )
    saturday = dt.datetime(2026, 12, 5, 9, 0, tzinfo=NEW_YORK)
    complaint = log_complaint(now=saturday.astimezone(dt.UTC))
    assert complaint.acknowledge_due == dt.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
    assert complaint.response_due == dt.datetime(2027, 1, 4, 9, 0, tzinfo=NEW_YORK)


def test_a_complaint_resolved_at_the_desk_is_closed_and_leaves_no_work(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    before = desk_version(personas.clinic.pk)
    complaint = log_complaint(resolved_at_desk=True, apologised=True, desk_action="Seen next.")
    assert complaint.status == ComplaintStatus.RESOLVED_AT_DESK
    assert complaint.acknowledge_due is None and complaint.response_due is None
    assert complaint.resolved_at == complaint.created_at
    assert desk_version(personas.clinic.pk) == before
    assert list(complaint.events.values_list("kind", flat=True)) == [EventKind.LOGGED]


def test_a_privacy_complaint_opens_a_review_even_when_resolved_at_the_desk(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    complaint = log_complaint(category=Category.PRIVACY, resolved_at_desk=True, explained=True)
    review = PrivacyReview.objects.get(complaint=complaint)
    assert review.closed_at is None
    assert review.reviewer is None  # no privacy officer set: the supervisors review it


def test_the_privacy_officer_reviews_a_privacy_complaint(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    ComplaintSettings.objects.create(clinic=personas.clinic, privacy_officer=personas.supervisor)
    complaint = log_complaint(category=Category.PRIVACY)
    assert PrivacyReview.objects.get(complaint=complaint).reviewer == personas.supervisor


def test_the_officer_logs_an_escalated_complaint_in_one_form(
    personas: Personas, client: Client
) -> None:
    patient = make_patient(personas.clinic)
    officer = login_client(client, personas.front_desk)
    page = officer.get(reverse("complaints:new") + f"?patient={patient.pk}")
    assert page.status_code == 200
    assert patient.family_name in page.content.decode()
    assert b"upset" in page.content.lower()  # the service-recovery playbook beside the form
    response = officer.post(
        reverse("complaints:new") + f"?patient={patient.pk}",
        _form(patient=patient.pk, staff_involved=[personas.nurse.pk]),
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert complaint.patient == patient
    assert list(complaint.staff_involved.all()) == [personas.nurse]
    assert complaint.status == ComplaintStatus.AWAITING_ACKNOWLEDGEMENT
    assert AuditEvent.objects.filter(
        object_type="complaint", object_id=str(complaint.pk), action="create"
    ).exists()


def test_an_anonymous_visitor_may_complain_about_the_waiting_room(
    personas: Personas, client: Client
) -> None:
    officer = login_client(client, personas.front_desk)
    response = officer.post(
        reverse("complaints:new"),
        _form(category="facilities", what_happened="The toilets were out of order all morning."),
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.patient is None
    assert complaint.complainant == ""


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"what_happened": "   "}, "Write what happened."),
        ({"what_happened": "x" * (TEXT_MAX + 1)}, f"under {TEXT_MAX:,} characters"),
        (
            {"occurred_on": f"{dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3):%Y-%m-%d}"},
            "in the future",
        ),
        ({"occurred_on": "the 45th"}, "Type the date as"),
        ({"staff_involved": ["987654321"]}, "is not on this clinic&#x27;s staff"),
        ({"staff_involved": ["robert'); drop"]}, "is not on this clinic&#x27;s staff"),
        ({"resolved_at_desk": "yes"}, "Say what resolved it"),
        ({"resolved_at_desk": ""}, "Say whether it was resolved at the desk."),
        ({"category": "weather"}, "from the list"),
    ],
)
def test_bad_input_is_refused_in_words_and_keeps_what_was_typed(
    personas: Personas, client: Client, overrides: dict[str, object], message: str
) -> None:
    officer = login_client(client, personas.front_desk)
    data = _form(
        **{"what_happened": "The receptionist was rude about my late arrival.", **overrides}
    )
    response = officer.post(reverse("complaints:new"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    if "what_happened" not in overrides:
        assert "The receptionist was rude about my late arrival." in body
    assert not Complaint.objects.exists()


def test_a_member_of_another_clinics_staff_cannot_be_named(
    personas: Personas, client: Client
) -> None:
    officer = login_client(client, personas.front_desk)
    response = officer.post(reverse("complaints:new"), _form(staff_involved=[personas.outsider.pk]))
    assert response.status_code == 400
    assert "not on this clinic&#x27;s staff" in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_service_refuses_staff_of_another_clinic_in_words(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    with pytest.raises(ComplaintRefusedError, match="is not on this clinic's staff"):
        log_complaint(staff_involved=[personas.outsider])
    assert not Complaint.objects.exists()


def test_another_clinics_patient_cannot_be_the_subject(personas: Personas, client: Client) -> None:
    theirs = make_patient(personas.other_clinic, family_name="Elsewhere")
    officer = login_client(client, personas.front_desk)
    assert officer.get(reverse("complaints:new") + f"?patient={theirs.pk}").status_code == 404
    response = officer.post(reverse("complaints:new"), _form(patient=theirs.pk))
    assert response.status_code == 400
    assert "not on file" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_supervisor_named_in_the_complaint_cannot_own_it(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    with pytest.raises(ComplaintRefusedError, match="cannot own it"):
        log_complaint(staff_involved=[personas.supervisor], owner=personas.supervisor)
