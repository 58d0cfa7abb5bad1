"""The outbox against a real SMTP server on loopback that refuses, answers 4xx, refuses the
recipient, hangs, or drops the connection mid-DATA; and a worker killed at each step."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.messaging import outbox, reminders
from frontdesk.messaging.models import (
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    ReminderDelivery,
    ReminderRule,
)
from frontdesk.messaging.outbox import outbox_send_due, retry_delay
from frontdesk.messaging.reminders import reminder_rules_ensure_defaults, reminders_dispatch_due
from frontdesk.messaging.tests.conftest import (
    Mailbox,
    Place,
    SmsInbox,
    _free_port,
    _serve_smtp,
    make_appointment,
)
from frontdesk.patients.models import ContactChannel, Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)
TUESDAY = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)  # a day ahead: the 24-hour reminder
LATER = dt.timedelta(minutes=31)  # past the longest pause between attempts


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


class Server(Mailbox):
    """A mail server that answers as `mode` says: "ok"; "busy" (451 to every recipient);
    "hang" (takes the message, never answers); "drop" (takes the message, hangs up before
    answering)."""

    mode = "ok"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.mode == "busy":
            return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if self.mode == "hang":
            await asyncio.Event().wait()  # until the server stops
        if self.mode == "drop":
            server.transport.close()
        return answer


@pytest.fixture
def server(settings: Any) -> Iterator[Server]:
    settings.EMAIL_TIMEOUT = 1
    yield from _serve_smtp(Server(), settings)  # type: ignore[misc]


def message_ids(mailbox: Mailbox) -> list[str]:
    return [str(m["Message-ID"]) for m in mailbox.messages]


def emailer(personas: Personas, name: str = "Maria") -> Patient:
    return make_patient(
        personas.clinic,
        given_name=name,
        email=f"{name.lower()}@example.org",
        consent_email=True,
        preferred_contact=ContactChannel.EMAIL,
    )


def remind(
    personas: Personas, place: Place, name: str = "Maria", start: dt.datetime = TUESDAY
) -> Appointment:
    reminder_rules_ensure_defaults()
    return make_appointment(place, emailer(personas, name), start)


def run() -> outbox.OutboxRun:
    """The worker's every-minute job: queue due reminders, send what is due."""
    reminders_dispatch_due()
    return outbox_send_due()


def only_message() -> OutboxMessage:
    return OutboxMessage.objects.get()


def test_reminders_queued_during_an_smtp_outage_are_sent_once_each_when_it_comes_back(
    personas: Personas,
    place: Place,
    settings: Any,
    _frozen: time_machine.Traveller,
) -> None:
    for minutes, name in enumerate(("Ana", "Ben", "Cleo")):
        remind(personas, place, name, TUESDAY - dt.timedelta(minutes=30 * minutes))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()  # nothing listens: connection refused
    settings.EMAIL_TIMEOUT = 1

    outage = run()

    # One attempt shows the server is down; the others wait rather than fail on it too.
    assert (outage.sent, outage.retrying) == (0, 1)
    statuses = sorted(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == ["failed_retrying", "pending", "pending"]
    failing = OutboxMessage.objects.get(status=OutboxStatus.RETRYING)
    assert failing.last_error == "The email could not be sent (ConnectionRefusedError)."
    assert failing.next_attempt_at > NOW
    due = ReminderDelivery.objects.filter(rule__hours_before=24)
    assert set(due.values_list("status", flat=True)) == {"claimed"}

    # The mail server comes back.
    mailbox = Mailbox()
    for _ in _serve_smtp(mailbox, settings):
        _frozen.shift(LATER)
        assert run().sent == 3
        assert run().sent == 0

    assert sorted(r[0] for r in mailbox.recipients) == [
        "ana@example.org",
        "ben@example.org",
        "cleo@example.org",
    ]
    assert len(set(message_ids(mailbox))) == 3
    assert set(due.values_list("status", flat=True)) == {"sent"}


def test_a_busy_server_answering_4xx_is_tried_again_after_a_pause_until_it_accepts(
    personas: Personas, place: Place, server: Server, _frozen: time_machine.Traveller
) -> None:
    remind(personas, place)
    server.mode = "busy"

    assert run().retrying == 1
    message = only_message()
    assert message.last_error == "The email could not be sent (SMTPRecipientsRefused, SMTP 451)."
    first_pause = message.next_attempt_at - NOW
    assert dt.timedelta(seconds=30) <= first_pause <= dt.timedelta(minutes=1)
    assert run().retrying == 0  # not due yet: nothing is tried before the pause is over

    _frozen.shift(first_pause)
    assert run().retrying == 1
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.next_attempt_at - (NOW + first_pause) > dt.timedelta(seconds=59)

    server.mode = "ok"
    _frozen.shift(LATER)
    assert run().sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 3)
    assert message_ids(server) == [message.message_id]
    assert ReminderDelivery.objects.get(status=DeliveryStatus.SENT).channel == "email"


def test_a_recipient_refused_with_5xx_is_parked_at_once_with_the_reason_and_not_retried(
    personas: Personas,
    place: Place,
    refusing_smtp_server: Mailbox,
    _frozen: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    remind(personas, place)

    with caplog.at_level("DEBUG", logger="frontdesk"):
        assert run().parked == 1
    _frozen.shift(dt.timedelta(hours=3))
    assert run().parked == 0

    message = only_message()
    assert (message.status, message.attempts) == (OutboxStatus.PARKED, 1)
    assert message.parked_at == NOW
    assert message.last_error == "The email could not be sent (SMTPRecipientsRefused, SMTP 550)."
    assert ReminderDelivery.objects.get(rule__hours_before=24).status == DeliveryStatus.FAILED
    parked = AuditEvent.objects.get(object_type="outbox_message")
    assert parked.detail["event"] == "message parked"
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("frontdesk")]
    assert any("parked" in text for text in logged)
    for text in [*logged, str(parked.detail)]:
        assert "example.org" not in text
        assert "Maria" not in text


def test_a_hanging_server_times_out_and_the_message_goes_again_with_the_same_message_id(
    personas: Personas, place: Place, server: Server, _frozen: time_machine.Traveller
) -> None:
    remind(personas, place)
    server.mode = "hang"

    assert run().retrying == 1
    message = only_message()
    assert "TimeoutError" in message.last_error or "SMTPServerDisconnected" in message.last_error

    server.mode = "ok"
    _frozen.shift(LATER)
    assert run().sent == 1

    # The server had taken the first copy without saying so: the receiver sees one Message-ID.
    assert message_ids(server) == [message.message_id, message.message_id]
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_a_connection_dropped_mid_data_is_resent_with_the_same_message_id(
    personas: Personas, place: Place, server: Server, _frozen: time_machine.Traveller
) -> None:
    remind(personas, place)
    server.mode = "drop"

    assert run().retrying == 1
    message = only_message()
    assert message.last_error == "The email could not be sent (SMTPServerDisconnected)."

    server.mode = "ok"
    _frozen.shift(LATER)
    assert run().sent == 1
    assert run().sent == 0

    assert len(server.messages) == 2
    assert set(message_ids(server)) == {message.message_id}
    sent = AuditEvent.objects.filter(object_type="message", detail__key=message.key)
    assert sent.count() == 1


def test_a_message_still_failing_after_the_last_attempt_is_parked_with_the_reason(
    personas: Personas,
    place: Place,
    server: Server,
    settings: Any,
    _frozen: time_machine.Traveller,
) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 3
    remind(personas, place)
    server.mode = "busy"

    for _ in range(3):
        run()
        _frozen.shift(LATER)
    assert run().retrying == 0

    message = only_message()
    assert (message.status, message.attempts) == (OutboxStatus.PARKED, 3)
    assert message.last_error == (
        "Gave up after 3 attempts. Last: The email could not be sent "
        "(SMTPRecipientsRefused, SMTP 451)."
    )
    delivery = ReminderDelivery.objects.get(rule__hours_before=24)
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, message.last_error)


def test_a_reminder_whose_appointment_was_cancelled_while_retrying_is_not_sent(
    personas: Personas, place: Place, server: Server, _frozen: time_machine.Traveller
) -> None:
    appointment = remind(personas, place)
    server.mode = "busy"
    run()
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    server.mode = "ok"
    _frozen.shift(LATER)

    assert run().cancelled == 1

    assert server.messages == []
    message = only_message()
    assert (message.status, message.last_error) == (
        OutboxStatus.CANCELLED,
        "The appointment is cancelled.",
    )
    delivery = ReminderDelivery.objects.get(rule__hours_before=24)
    assert (delivery.status, delivery.error) == (
        DeliveryStatus.SKIPPED,
        "The appointment is cancelled.",
    )


def test_a_text_carries_the_same_idempotency_key_on_every_attempt(
    personas: Personas, place: Place, sms_server: SmsInbox, _frozen: time_machine.Traveller
) -> None:
    reminder_rules_ensure_defaults()
    patient = make_patient(personas.clinic, consent_sms=True, preferred_contact="sms")
    make_appointment(place, patient, TUESDAY)
    sms_server.status = 503

    run()
    sms_server.status = 202
    _frozen.shift(LATER)
    run()

    message = only_message()
    assert message.status == OutboxStatus.SENT
    assert sms_server.idempotency_keys == [message.idempotency_key] * 2
    assert len(message.idempotency_key) == 32


def test_the_pause_between_attempts_doubles_up_to_half_an_hour_and_is_spread() -> None:
    for attempts, full in [(1, 60), (2, 120), (3, 240), (5, 960), (6, 1800), (20, 1800)]:
        for _ in range(20):
            pause = retry_delay(attempts).total_seconds()
            assert full / 2 <= pause <= full


class WorkerKilledError(BaseException):
    """Stands for the worker process dying (SIGKILL, out of memory) at one step."""


def _kill(*args: Any, **kwargs: Any) -> Any:
    raise WorkerKilledError


@pytest.mark.parametrize(
    "step",
    [
        "writing the reminder",  # inside the transaction that records it
        "after the claim committed",  # before the mail server was reached
        "after the server accepted",  # before the message was recorded sent
        "after it was recorded sent",  # before the worker took the next message
    ],
)
def test_a_worker_killed_at_any_step_loses_nothing_and_sends_one_message_id(
    step: str,
    transactional_audit: None,
    personas: Personas,
    place: Place,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    _frozen: time_machine.Traveller,
) -> None:
    remind(personas, place)
    if step == "writing the reminder":
        monkeypatch.setattr(reminders, "outbox_add", _kill)
    elif step == "after the claim committed":
        monkeypatch.setattr(outbox, "deliver", _kill)
    elif step == "after the server accepted":
        monkeypatch.setattr(outbox, "_mark_sent", _kill)
    else:
        claim = outbox._claim
        calls: list[int] = []

        def claim_then_die(*args: Any) -> OutboxMessage | None:
            calls.append(1)
            if len(calls) > 1:
                raise WorkerKilledError
            return claim(*args)

        monkeypatch.setattr(outbox, "_claim", claim_then_die)

    with pytest.raises(WorkerKilledError):
        run()
    monkeypatch.undo()
    connection.close()

    # The worker restarts, and runs every minute from then on, past any lease it held.
    run()
    _frozen.shift(dt.timedelta(minutes=6))
    run()
    run()

    message = only_message()
    assert message.status == OutboxStatus.SENT
    assert set(message_ids(server)) == {message.message_id}
    assert 1 <= len(server.messages) <= 2
    delivery = ReminderDelivery.objects.get(rule__hours_before=24)
    assert delivery.status == DeliveryStatus.SENT
    assert AuditEvent.objects.filter(object_type="message", detail__key=message.key).count() == 1


def test_a_message_whose_worker_stopped_mid_send_on_its_last_attempt_is_parked_as_unknown(
    transactional_audit: None,
    personas: Personas,
    place: Place,
    server: Server,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    _frozen: time_machine.Traveller,
) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 1
    remind(personas, place)
    monkeypatch.setattr(outbox, "deliver", _kill)
    with pytest.raises(WorkerKilledError):
        run()
    monkeypatch.undo()
    connection.close()

    _frozen.shift(dt.timedelta(minutes=6))
    assert run().sent == 0

    message = only_message()
    assert message.status == OutboxStatus.PARKED
    assert message.last_error == (
        "The worker stopped while sending (attempt 1): whether it arrived is unknown."
    )
    assert server.messages == []


def test_reminders_left_claimed_or_failed_before_the_outbox_are_parked_for_a_person(
    transactional_audit: None, personas: Personas, place: Place
) -> None:
    reminder_rules_ensure_defaults()
    stuck = remind(personas, place, "Stuck")
    failed = remind(personas, place, "Failed", TUESDAY - dt.timedelta(hours=1))
    past = remind(personas, place, "Past", NOW - dt.timedelta(hours=1))
    rule = ReminderRule.objects.get(clinic=personas.clinic, hours_before=24)
    before = [("messaging", "0006_outbox")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldDelivery = old.get_model("messaging", "ReminderDelivery")  # noqa: N806
        for appointment, status, error in [
            (stuck, "claimed", ""),
            (failed, "failed", "The email could not be sent (ConnectionRefusedError)."),
            (past, "claimed", ""),
        ]:
            OldDelivery.objects.create(
                appointment_id=appointment.pk,
                rule_id=rule.pk,
                appointment_start=appointment.start,
                status=status,
                error=error,
                claimed_at=NOW - dt.timedelta(days=1),
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    parked = {m.patient.given_name: m for m in OutboxMessage.objects.select_related("patient")}
    assert set(parked) == {"Stuck", "Failed"}  # a visit already past needs no reminder
    assert {m.status for m in parked.values()} == {OutboxStatus.PARKED}
    assert "whether it arrived is unknown" in parked["Stuck"].last_error
    assert parked["Failed"].last_error.endswith("(ConnectionRefusedError).")
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {"failed", "claimed"}
    assert ReminderDelivery.objects.get(appointment=past).status == "claimed"


def test_a_text_refused_for_the_clinics_own_token_is_retried_not_parked(
    personas: Personas, place: Place, sms_server: SmsInbox, _frozen: time_machine.Traveller
) -> None:
    reminder_rules_ensure_defaults()
    patient = make_patient(personas.clinic, consent_sms=True, preferred_contact="sms")
    make_appointment(place, patient, TUESDAY)
    sms_server.status = 401  # the provider's token was replaced; an administrator fixes it

    assert run().retrying == 1
    assert only_message().last_error == (
        "The text-message provider refused the message (HTTP 401)."
    )
    sms_server.status = 202
    _frozen.shift(LATER)
    assert run().sent == 1
