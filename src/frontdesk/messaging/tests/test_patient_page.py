from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.lib.links import make_token
from frontdesk.messaging.content import APPOINTMENT_LINK_PURPOSE
from frontdesk.messaging.tests.conftest import Place, make_appointment
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus, CancelledBy

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 11, 25, 19, 15, tzinfo=dt.UTC)  # Wednesday 2:15 PM in New York


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(personas: Personas) -> Patient:
    return make_patient(
        personas.clinic,
        given_name="Maria",
        family_name="Quintero",
        birth_date=dt.date(1971, 8, 19),
        phone="+12025550177",
        email="maria@example.org",
    )


@pytest.fixture
def appointment(place: Place, patient: Patient) -> Appointment:
    return make_appointment(place, patient, START)


def link(appointment: Appointment) -> str:
    token = make_token(APPOINTMENT_LINK_PURPOSE, appointment.pk)
    return reverse("messaging:appointment", kwargs={"token": token})


def csrf_client(url: str) -> tuple[Client, str]:
    """A browser that enforces CSRF, having loaded the page (and its form token) first."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)
    assert page.status_code == 200
    return client, client.cookies["csrftoken"].value


def test_the_page_shows_only_first_name_date_time_and_place(
    appointment: Appointment, patient: Patient
) -> None:
    response = Client().get(link(appointment))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Hello Maria" in page
    assert "Wednesday 25 November 2026" in page
    assert "2:15 PM" in page
    assert "Northside, 12 River Road, Springfield" in page
    for secret in (
        "Quintero",
        "1971",
        "08/19",
        "August",
        "5550177",
        "555-0177",
        "maria@example.org",
        patient.mrn,
        "Chemotherapy",
        "Oncology",
        "Lee",
    ):
        assert secret not in page, secret
    assert 'name="csrfmiddlewaretoken"' in page
    event = AuditEvent.objects.get(action=AuditAction.VIEW, object_type="appointment")
    assert event.actor_role == "patient"
    assert event.actor_id_value is None
    assert event.patient_ids == [patient.pk]


def test_the_link_page_and_its_answers_are_never_cached(appointment: Appointment) -> None:
    # Opened on shared or public computers: the back button must not show it to the next person.
    client, csrf = csrf_client(link(appointment))
    answered = client.post(link(appointment), {"action": "confirm", "csrfmiddlewaretoken": csrf})
    for response in (client.get(link(appointment)), answered, Client().get("/p/appointment/x/")):
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_the_patient_confirms_through_the_link(appointment: Appointment) -> None:
    url = link(appointment)
    client, csrf = csrf_client(url)

    response = client.post(url, {"action": "confirm", "csrfmiddlewaretoken": csrf})

    assert response.status_code == 200
    assert b"your appointment is confirmed" in response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.confirmed_at == NOW
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type="appointment")
    assert event.actor_role == "patient"
    assert event.purpose == "the patient's own request through a reminder link"
    assert event.client_ip == "127.0.0.1"
    history = appointment.history.get()
    assert history.by is None
    assert history.reason == "confirmed"


def test_the_patient_cancels_through_the_link(appointment: Appointment) -> None:
    url = link(appointment)
    client, csrf = csrf_client(url)

    response = client.post(url, {"action": "cancel", "csrfmiddlewaretoken": csrf})

    assert response.status_code == 200
    assert b"Your appointment has been cancelled" in response.content
    assert b'value="cancel"' not in response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_by == CancelledBy.PATIENT
    assert not appointment.late_cancellation  # two days ahead
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, actor_role="patient", detail__status="booked -> cancelled"
    ).exists()

    # Coming back later: the page says so politely and offers nothing.
    again = Client().get(url)
    assert b"This appointment has been cancelled" in again.content
    assert b'value="confirm"' not in again.content
    refused = client.post(url, {"action": "confirm", "csrfmiddlewaretoken": csrf})
    assert refused.status_code == 409
    assert b"already been cancelled" in refused.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_a_post_without_the_form_token_changes_nothing(appointment: Appointment) -> None:
    response = Client(enforce_csrf_checks=True).post(link(appointment), {"action": "cancel"})

    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_an_expired_link_gets_a_polite_page_and_never_acts(
    appointment: Appointment, _frozen: time_machine.Traveller, settings: object
) -> None:
    url = link(appointment)
    client, csrf = csrf_client(url)
    _frozen.move_to(NOW + dt.timedelta(days=15))  # the default maximum age is 14 days

    page = client.get(url)
    posted = client.post(url, {"action": "cancel", "csrfmiddlewaretoken": csrf})

    for response in (page, posted):
        assert response.status_code == 410
        assert b"This link has expired" in response.content
        assert b"Nothing has been changed" in response.content
        assert b"Maria" not in response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_a_tampered_link_gets_a_polite_page_and_never_acts(
    appointment: Appointment, place: Place, patient: Patient
) -> None:
    other = make_appointment(place, patient, START + dt.timedelta(hours=1))
    good = make_token(APPOINTMENT_LINK_PURPOSE, appointment.pk)
    forged = make_token(APPOINTMENT_LINK_PURPOSE, other.pk).split(":")[0] + good[good.index(":") :]
    client, csrf = csrf_client(link(appointment))

    for token in (forged, good[:-3], "garbage", make_token("waitlist", appointment.pk)):
        url = reverse("messaging:appointment", kwargs={"token": token})
        assert client.get(url).status_code == 404
        response = client.post(url, {"action": "cancel", "csrfmiddlewaretoken": csrf})
        assert response.status_code == 404
        assert b"This link does not work" in response.content

    for booked in (appointment, other):
        booked.refresh_from_db()
        assert booked.status == AppointmentStatus.BOOKED


def test_a_link_to_a_past_appointment_says_so_and_cannot_change_it(
    appointment: Appointment, _frozen: time_machine.Traveller
) -> None:
    url = link(appointment)
    client, csrf = csrf_client(url)
    _frozen.move_to(START + dt.timedelta(hours=2))

    page = client.get(url)
    assert page.status_code == 200
    assert b"in the past" in page.content
    assert b'value="cancel"' not in page.content
    posted = client.post(url, {"action": "cancel", "csrfmiddlewaretoken": csrf})
    assert posted.status_code == 409
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_an_unknown_action_is_refused_in_plain_words(appointment: Appointment) -> None:
    url = link(appointment)
    client, csrf = csrf_client(url)

    response = client.post(url, {"action": "reschedule", "csrfmiddlewaretoken": csrf})

    assert response.status_code == 409
    assert b"Choose whether to confirm or cancel" in response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
