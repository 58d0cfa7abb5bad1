"""The demo outbox: in demo mode patients' messages are kept, not sent, and staff read them at
/demo/outbox/; outside demo mode the page does not exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.demo.models import DemoMessage
from frontdesk.messaging.models import OutboxMessage, OutboxStatus
from frontdesk.messaging.outbox import outbox_send_due
from frontdesk.messaging.reminders import reminder_rules_ensure_defaults, reminders_dispatch_due
from frontdesk.messaging.tests.conftest import Place, make_appointment, place
from frontdesk.patients.models import ContactChannel, Patient

__all__ = ["place"]  # the fixture, from messaging's tests

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)
TOMORROW = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)  # the 24-hour reminder is due
URL = "/demo/outbox/"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def demo_mode(settings: Any) -> None:
    settings.FRONTDESK_DEMO = True
    # Anything reaching the network would fail loudly: no mail server, no text provider.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = 9
    settings.SMS_PROVIDER_URL = ""


def _remind(personas: Personas, place: Place, **fields: object) -> Patient:
    reminder_rules_ensure_defaults()
    patient = make_patient(personas.clinic, given_name="Maria", family_name="Okafor", **fields)
    make_appointment(place, patient, TOMORROW)
    reminders_dispatch_due()
    outbox_send_due()
    return patient


@pytest.mark.usefixtures("demo_mode")
def test_in_demo_mode_a_reminder_sent_by_the_outbox_appears_on_the_page(
    personas: Personas, place: Place
) -> None:
    patient = _remind(
        personas,
        place,
        email="maria.okafor@example.org",
        consent_email=True,
        preferred_contact=ContactChannel.EMAIL,
    )
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    kept = DemoMessage.objects.get()
    assert (kept.patient, kept.channel, kept.recipient) == (
        patient,
        "email",
        "maria.okafor@example.org",
    )

    page = login_client(Client(), personas.front_desk).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Okafor, Maria" in html
    assert kept.subject in html
    assert "m•••@example.org" in html and "maria.okafor@example.org" not in html
    assert kept.body.splitlines()[0] in html  # the words, behind a click
    assert "<details" in html
    event = AuditEvent.objects.filter(object_type="demo_outbox").latest("pk")
    assert event.action == AuditAction.VIEW
    assert event.patient_ids == [patient.pk]


@pytest.mark.usefixtures("demo_mode")
def test_in_demo_mode_a_text_is_kept_with_the_number_masked(
    personas: Personas, place: Place
) -> None:
    _remind(personas, place, consent_sms=True, preferred_contact=ContactChannel.SMS)
    kept = DemoMessage.objects.get()
    assert kept.channel == "sms" and kept.recipient.startswith("+1")
    html = login_client(Client(), personas.nurse).get(URL).content.decode()
    assert "Text message" in html and f"••• ••• {kept.recipient[-4:]}" in html
    assert kept.recipient not in html


@pytest.mark.usefixtures("demo_mode")
def test_a_message_sent_twice_with_one_key_is_kept_once(personas: Personas) -> None:
    from frontdesk.messaging.channels import deliver

    patient = make_patient(
        personas.clinic, email="a@example.org", consent_email=True, preferred_contact="email"
    )
    for _ in range(2):
        deliver(patient, subject="Hello", text="Body", message_id="<one@frontdesk>")
    assert DemoMessage.objects.count() == 1


@pytest.mark.usefixtures("demo_mode")
def test_the_demo_outbox_is_in_the_navigation_in_demo_mode_only(
    personas: Personas, settings: Any
) -> None:
    client = login_client(Client(), personas.front_desk)
    assert 'href="/demo/outbox/"' in client.get("/").content.decode()
    settings.FRONTDESK_DEMO = False
    assert 'href="/demo/outbox/"' not in client.get("/").content.decode()


def test_outside_demo_mode_the_page_is_not_found_and_messages_go_to_the_network(
    personas: Personas, place: Place, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert settings.FRONTDESK_DEMO is False
    _remind(
        personas,
        place,
        email="maria.okafor@example.org",
        consent_email=True,
        preferred_contact=ContactChannel.EMAIL,
    )
    assert len(mail.outbox) == 1 and not DemoMessage.objects.exists()
    for user in (personas.front_desk, personas.supervisor):
        assert login_client(Client(), user).get(URL).status_code == 404


@pytest.mark.usefixtures("demo_mode")
def test_roles_without_patient_access_are_refused(personas: Personas) -> None:
    for role, user in personas.by_role().items():
        status = login_client(Client(), user).get(URL).status_code
        assert status == (403 if role == Role.ADMIN else 200), role
    assert Client().get(URL).status_code == 302  # to sign in


@pytest.mark.usefixtures("demo_mode")
def test_a_restricted_patients_message_shows_the_subject_but_not_the_words(
    personas: Personas, place: Place
) -> None:
    _remind(
        personas,
        place,
        email="maria.okafor@example.org",
        consent_email=True,
        preferred_contact=ContactChannel.EMAIL,
        confidentiality="restricted",
    )
    kept = DemoMessage.objects.get()
    html = login_client(Client(), personas.front_desk).get(URL).content.decode()
    assert kept.subject in html and "Restricted record" in html
    assert kept.body.splitlines()[0] not in html
