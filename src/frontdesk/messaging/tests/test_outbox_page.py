"""/messaging/outbox/: parked messages shown to administrators and supervisors with the reason,
names only to roles that see patients, send again and cancel audited; the count on Start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.messaging.models import (
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    ReminderDelivery,
)
from frontdesk.messaging.outbox import outbox_send_due
from frontdesk.messaging.reminders import reminder_rules_ensure_defaults, reminders_dispatch_due
from frontdesk.messaging.tests.conftest import Mailbox, Place, _serve_smtp, make_appointment
from frontdesk.patients.merging import patient_merge
from frontdesk.scheduling.models import Appointment

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def parked_reminders(personas: Personas, place: Place, count: int = 1) -> list[OutboxMessage]:
    """Reminders the (refusing) mail server turned down for good."""
    reminder_rules_ensure_defaults()
    for number in range(count):
        patient = make_patient(
            personas.clinic,
            given_name=f"Maria{'abc'[number]}",
            family_name="Quintero",
            email=f"maria{number}@example.org",
            consent_email=True,
            preferred_contact="email",
        )
        start = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC) - dt.timedelta(hours=number)
        make_appointment(place, patient, start)
    reminders_dispatch_due()
    outbox_send_due()
    parked = list(OutboxMessage.objects.filter(status=OutboxStatus.PARKED).order_by("pk"))
    assert len(parked) == count
    return parked


def test_a_supervisor_sees_each_parked_message_with_the_patient_the_reason_and_attempts(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    (message,) = parked_reminders(personas, place)
    client = login_client(Client(), personas.supervisor)

    page = client.get(reverse("outbox:list"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Appointment reminder" in text
    assert "Quintero, Mariaa" in text
    assert "The email could not be sent (SMTPRecipientsRefused, SMTP 550)." in text
    assert "maria0@example.org" not in text  # the address is never shown
    listed = AuditEvent.objects.get(object_type="outbox_list")
    assert listed.patient_ids == [message.patient_id]


def test_an_administrator_sees_the_reason_but_not_the_patients_name(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    parked_reminders(personas, place)

    page = login_client(Client(), personas.admin).get(reverse("outbox:list"))

    text = page.content.decode()
    assert "SMTP 550" in text
    assert "Quintero" not in text
    assert "names are not shown to your role" in text
    assert not AuditEvent.objects.filter(object_type="outbox_list").exists()


def test_the_desk_may_not_open_the_outbox(personas: Personas) -> None:
    page = login_client(Client(), personas.front_desk).get(reverse("outbox:list"))
    assert page.status_code == 403


def test_the_list_costs_the_same_queries_for_one_message_or_three(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    parked_reminders(personas, place, count=1)
    client = login_client(Client(), personas.supervisor)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("outbox:list"))
    OutboxMessage.objects.all().delete()
    ReminderDelivery.objects.all().delete()
    Appointment.objects.all().delete()
    parked_reminders(personas, place, count=3)
    with CaptureQueriesContext(connection) as three:
        client.get(reverse("outbox:list"))

    assert len(three) == len(one)


def test_sending_again_once_the_cause_is_fixed_delivers_it_and_is_audited(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox, settings: Any
) -> None:
    (message,) = parked_reminders(personas, place)
    client = login_client(Client(), personas.supervisor)
    mailbox = Mailbox()

    for _ in _serve_smtp(mailbox, settings):  # the address was fixed at the mail server
        response = client.post(reverse("outbox:retry", args=[message.pk]))

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert [str(m["Message-ID"]) for m in mailbox.messages] == [message.message_id]
    assert ReminderDelivery.objects.get(rule__hours_before=24).status == DeliveryStatus.SENT
    event = AuditEvent.objects.get(object_type="outbox_message", detail__event="sent again by sue")
    assert event.actor_username == "sue"


def test_cancelling_a_parked_message_closes_it_for_good_and_is_audited(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    (message,) = parked_reminders(personas, place)
    client = login_client(Client(), personas.admin)

    client.post(reverse("outbox:cancel", args=[message.pk]))
    again = client.post(reverse("outbox:retry", args=[message.pk]), follow=True)

    message.refresh_from_db()
    assert message.status == OutboxStatus.CANCELLED
    assert "cancelled now, so nothing was changed" in again.content.decode()
    assert ReminderDelivery.objects.get(rule__hours_before=24).status == DeliveryStatus.SKIPPED
    assert AuditEvent.objects.filter(detail__event="cancelled by adam").exists()
    assert "Every message to patients has been sent" in again.content.decode()


def test_a_message_of_another_clinic_cannot_be_touched(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    (message,) = parked_reminders(personas, place)
    OutboxMessage.objects.filter(pk=message.pk).update(clinic=personas.other_clinic)
    client = login_client(Client(), personas.supervisor)

    assert client.post(reverse("outbox:retry", args=[message.pk])).status_code == 404
    assert client.post(reverse("outbox:cancel", args=[message.pk])).status_code == 404
    assert "Quintero" not in client.get(reverse("outbox:list")).content.decode()


def test_the_start_page_tells_supervisors_and_administrators_how_many_were_not_sent(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    parked_reminders(personas, place, count=2)

    for user in (personas.supervisor, personas.admin):
        home = login_client(Client(), user).get(reverse("home")).content.decode()
        assert "2 messages could not be sent" in home
        assert reverse("outbox:list") in home
    desk = login_client(Client(), personas.front_desk).get(reverse("home")).content.decode()
    assert "could not be sent" not in desk


def test_merging_two_records_moves_their_unsent_messages_to_the_record_kept(
    personas: Personas, place: Place, refusing_smtp_server: Mailbox
) -> None:
    (message,) = parked_reminders(personas, place)
    survivor = make_patient(personas.clinic, given_name="Maria", family_name="Quintero")

    patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=survivor,
        merged=message.patient,
        take_from_merged=set(),
    )

    message.refresh_from_db()
    assert message.patient_id == survivor.pk
