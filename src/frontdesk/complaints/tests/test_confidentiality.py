"""Complaints are confidential: supervisors, the owner and the person who logged them see
them; staff named in them never do, not even a supervisor; another clinic sees nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, Personas, login_client, make_patient
from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.complaints.models import Complaint
from frontdesk.complaints.selectors import complaints_visible
from frontdesk.complaints.tests.conftest import LogComplaint

SECRET = "Dr Phil shouted at me in the corridor"


@pytest.fixture
def second_supervisor(personas: Personas) -> User:
    return staff_create(
        clinic=personas.clinic,
        username="stan",
        password=PASSWORD,
        role=Role.SUPERVISOR,
        first_name="Stan",
    )


@pytest.fixture
def complaint(personas: Personas, log_complaint: LogComplaint) -> Complaint:
    """About a physician and a supervisor, logged by the desk's officer."""
    return log_complaint(
        patient=make_patient(personas.clinic),
        category="staff_conduct",
        what_happened=SECRET,
        staff_involved=[personas.physician, personas.supervisor],
    )


def _sees(client: Client, user: User, complaint: Complaint) -> bool:
    """Whether the complaint's page shows it to `user`, and the list names it (URL + words)."""
    login_client(client, user)
    page = client.get(reverse("complaints:detail", args=[complaint.pk]))
    listed = client.get(reverse("complaints:list"))
    client.logout()
    shown = page.status_code == 200 and SECRET in page.content.decode()
    in_list = reverse("complaints:detail", args=[complaint.pk]) in listed.content.decode()
    assert shown == in_list, "the page and the list must agree"
    if not shown:
        assert page.status_code in (403, 404)
        assert SECRET not in page.content.decode()
    return shown


def test_the_officer_who_logged_it_sees_it(
    personas: Personas, complaint: Complaint, client: Client
) -> None:
    assert _sees(client, personas.front_desk, complaint)


def test_another_supervisor_sees_it(
    complaint: Complaint, second_supervisor: User, client: Client
) -> None:
    assert _sees(client, second_supervisor, complaint)


def test_staff_named_in_it_cannot_see_it_even_a_supervisor(
    personas: Personas, complaint: Complaint, client: Client
) -> None:
    assert not _sees(client, personas.physician, complaint)
    assert not _sees(client, personas.supervisor, complaint)


def test_other_roles_and_other_officers_cannot_see_it(
    personas: Personas, complaint: Complaint, client: Client
) -> None:
    other_officer = staff_create(
        clinic=personas.clinic, username="otto", password=PASSWORD, role=Role.FRONT_DESK
    )
    for user in (other_officer, personas.nurse, personas.billing):
        assert not _sees(client, user, complaint), user.username
    # Administrators see no complaints at all: the policy refuses the page.
    login_client(client, personas.admin)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 403


def test_another_clinic_sees_nothing(
    personas: Personas, complaint: Complaint, client: Client
) -> None:
    assert not _sees(client, personas.outsider, complaint)
    their_supervisor = staff_create(
        clinic=personas.other_clinic, username="hilda", password=PASSWORD, role=Role.SUPERVISOR
    )
    assert not _sees(client, their_supervisor, complaint)


def test_the_owner_sees_it(
    personas: Personas, log_complaint: LogComplaint, second_supervisor: User, client: Client
) -> None:
    owned = log_complaint(what_happened=SECRET, owner=second_supervisor)
    assert complaints_visible(second_supervisor).filter(pk=owned.pk).exists()
    assert _sees(client, second_supervisor, owned)


def test_a_named_supervisor_cannot_act_on_it_either(
    personas: Personas, complaint: Complaint, client: Client
) -> None:
    login_client(client, personas.supervisor)
    for name in ("acknowledge", "note", "assign", "privacy_review"):
        response = client.post(reverse(f"complaints:{name}", args=[complaint.pk]), {"text": "x"})
        assert response.status_code == 404, name
    assert client.get(reverse("complaints:respond", args=[complaint.pk])).status_code == 404
    assert client.get(reverse("complaints:letter", args=[complaint.pk])).status_code == 404
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is None
    assert complaint.events.count() == 2  # logged, escalated: nothing added


def test_only_supervisors_act_on_a_grievance(
    personas: Personas, complaint: Complaint, client: Client
) -> None:
    login_client(client, personas.front_desk)  # who logged it: sees it, may not handle it
    response = client.post(reverse("complaints:acknowledge", args=[complaint.pk]))
    assert response.status_code == 403
    assert client.get(reverse("complaints:trends")).status_code == 403
