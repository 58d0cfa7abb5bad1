from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any

import icalendar
import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

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
from frontdesk.messaging.outbox import outbox_send_due
from frontdesk.messaging.reminders import (
    reminder_claim,
    reminder_rules_ensure_defaults,
    reminders_dispatch_due,
)
from frontdesk.messaging.tests.conftest import Mailbox, Place, SmsInbox, make_appointment
from frontdesk.patients.models import ContactChannel, Patient, PhoneKind
from frontdesk.scheduling.models import Appointment, AppointmentStatus

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def rules(personas: Personas) -> dict[int, ReminderRule]:
    reminder_rule_rows = reminder_rules_ensure_defaults()
    assert reminder_rule_rows >= 2
    return {r.hours_before: r for r in ReminderRule.objects.filter(clinic=personas.clinic)}


def emailer(personas: Personas, **fields: object) -> Patient:
    values: dict[str, object] = {
        "given_name": "Maria",
        "family_name": "Quintero",
        "email": "maria@example.org",
        "consent_email": True,
        "preferred_contact": ContactChannel.EMAIL,
    }
    values.update(fields)
    return make_patient(personas.clinic, **values)


def run_due() -> int:
    """The worker's every-minute job, in-line: queue due reminders, then send the outbox."""
    recorded = reminders_dispatch_due()
    outbox_send_due()
    return recorded


def test_a_due_reminder_arrives_by_email_with_text_html_calendar_file_and_links(
    personas: Personas, place: Place, rules: dict[int, ReminderRule], smtp_server: Mailbox
) -> None:
    patient = emailer(personas)
    start = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)  # Tuesday 7:30 AM in New York
    appointment = make_appointment(place, patient, start)

    assert run_due() == 1

    (message,) = smtp_server.messages
    assert smtp_server.recipients == [["maria@example.org"]]
    assert "Riverside Family Clinic" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, html):
        assert "Maria" in part
        assert "Tuesday 24 November 2026" in part
        assert "7:30 AM" in part
        assert "Northside, 12 River Road, Springfield" in part
        # Nothing that hints at a diagnosis, nor the family name.
        assert "Chemotherapy" not in part
        assert "Oncology" not in part
        assert "Quintero" not in part
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    ics = attachment.get_content()
    assert isinstance(ics, str)
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Appointment at Riverside Family Clinic"
    assert str(event["LOCATION"]) == "Northside, 12 River Road, Springfield"
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event.decoded("DTEND") == start + dt.timedelta(minutes=30)
    assert "Chemotherapy" not in ics

    links = set(re.findall(r"http://127\.0\.0\.1:8000(/p/appointment/[^/\s]+/)\?do=(\w+)", text))
    assert {action for _, action in links} == {"confirm", "cancel"}
    path = next(iter(links))[0]
    page = Client().get(path)
    assert page.status_code == 200
    assert b"Hello Maria" in page.content

    delivery = ReminderDelivery.objects.get(appointment=appointment, rule=rules[24])
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.channel == "email"
    assert delivery.sent_at == NOW
    # Booked a day ahead: the three-day reminder is overtaken, recorded, never sent.
    skipped = ReminderDelivery.objects.get(appointment=appointment, rule=rules[72])
    assert skipped.status == DeliveryStatus.SKIPPED
    assert "nearer reminder" in skipped.error
    assert AuditEvent.objects.filter(
        object_type="message", patient_ids=[patient.pk], detail__channel="email"
    ).exists()


def test_a_text_reminder_is_short_and_goes_through_the_provider(
    personas: Personas, place: Place, rules: dict[int, ReminderRule], sms_server: SmsInbox
) -> None:
    patient = make_patient(
        personas.clinic,
        phone="+12025550199",
        phone_kind=PhoneKind.MOBILE,
        consent_sms=True,
        preferred_contact=ContactChannel.SMS,
    )
    make_appointment(place, patient, dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC))

    assert run_due() == 1

    (received,) = sms_server.received
    assert received["to"] == "+12025550199"
    assert received["text"].startswith("Riverside Family Clinic: reminder of your appointment")
    assert "Tue 24 Nov 7:30 AM at Northside" in received["text"]
    assert re.search(r"http://127\.0\.0\.1:8000/p/appointment/\S+/", received["text"])
    assert "Chemotherapy" not in received["text"]
    assert len(received["text"]) <= 320
    assert ReminderDelivery.objects.get(status=DeliveryStatus.SENT).channel == "sms"


def test_a_reminder_is_never_sent_twice_when_the_job_runs_again_or_the_task_repeats(
    personas: Personas, place: Place, rules: dict[int, ReminderRule], smtp_server: Mailbox
) -> None:
    appointment = make_appointment(
        place, emailer(personas), dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    )

    assert run_due() == 1
    assert run_due() == 0
    # The same reminder claimed again (a repeated task): it finds the claim and queues nothing.
    assert reminder_claim(appointment_id=appointment.pk, rule_id=rules[24].pk) is None
    outbox_send_due()

    assert len(smtp_server.messages) == 1
    assert ReminderDelivery.objects.filter(appointment=appointment, rule=rules[24]).count() == 1


def test_each_rule_sends_its_own_reminder_at_its_own_time(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    smtp_server: Mailbox,
    _frozen: time_machine.Traveller,
) -> None:
    start = NOW + dt.timedelta(hours=100)
    appointment = make_appointment(place, emailer(personas), start)

    assert run_due() == 0  # more than three days ahead
    _frozen.move_to(start - dt.timedelta(hours=72))
    assert run_due() == 1
    _frozen.move_to(start - dt.timedelta(hours=30))
    assert run_due() == 0
    _frozen.move_to(start - dt.timedelta(hours=24))
    assert run_due() == 1
    _frozen.move_to(start - dt.timedelta(hours=1))
    assert run_due() == 0

    assert len(smtp_server.messages) == 2
    assert set(
        ReminderDelivery.objects.filter(appointment=appointment).values_list(
            "rule__hours_before", "status"
        )
    ) == {(72, "sent"), (24, "sent")}


def test_cancelled_past_and_switched_off_reminders_are_not_sent(
    personas: Personas, place: Place, rules: dict[int, ReminderRule], smtp_server: Mailbox
) -> None:
    patient = emailer(personas)
    soon = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    make_appointment(place, patient, soon, status=AppointmentStatus.CANCELLED)
    make_appointment(place, patient, NOW - dt.timedelta(hours=1), status=AppointmentStatus.BOOKED)
    make_appointment(place, patient, soon + dt.timedelta(hours=1), status=AppointmentStatus.NOSHOW)

    assert run_due() == 0
    assert smtp_server.messages == []

    # Cancelled after the reminder was queued, before the worker sent it: the outbox checks
    # again at sending time and skips it.
    listed = make_appointment(place, patient, soon + dt.timedelta(hours=2))
    delivery = reminder_claim(appointment_id=listed.pk, rule_id=rules[72].pk)
    assert delivery is not None
    assert delivery.status == DeliveryStatus.CLAIMED
    Appointment.objects.filter(pk=listed.pk).update(status=AppointmentStatus.CANCELLED)
    outbox_send_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SKIPPED
    assert delivery.error == "The appointment is cancelled."
    assert OutboxMessage.objects.get(key=f"reminder:{delivery.pk}").status == "cancelled"

    rules[24].is_active = False
    rules[24].save()
    make_appointment(place, patient, soon + dt.timedelta(hours=3))
    assert run_due() == 1  # the 72-hour rule still applies
    rules[72].is_active = False
    rules[72].save()
    make_appointment(place, patient, soon + dt.timedelta(hours=4))
    assert run_due() == 0
    assert len(smtp_server.messages) == 1


def test_a_patient_who_agreed_to_no_channel_gets_no_reminder_and_it_is_recorded(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    smtp_server: Mailbox,
    sms_server: SmsInbox,
) -> None:
    patient = emailer(personas, consent_email=False, consent_sms=False)
    appointment = make_appointment(place, patient, dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC))

    assert run_due() == 1
    assert run_due() == 0

    assert smtp_server.messages == []
    assert sms_server.received == []
    delivery = ReminderDelivery.objects.get(appointment=appointment, rule=rules[24])
    assert delivery.status == DeliveryStatus.SKIPPED
    assert "not agreed" in delivery.error


def test_a_text_the_provider_fails_with_a_server_error_is_sent_once_it_recovers(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    sms_server: SmsInbox,
    _frozen: time_machine.Traveller,
) -> None:
    sms_server.status = 500
    patient = make_patient(personas.clinic, consent_sms=True, preferred_contact="sms")
    appointment = make_appointment(place, patient, dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC))

    assert run_due() == 1
    delivery = ReminderDelivery.objects.get(appointment=appointment, rule=rules[24])
    assert delivery.status == DeliveryStatus.CLAIMED
    message = OutboxMessage.objects.get(key=f"reminder:{delivery.pk}")
    assert message.status == OutboxStatus.RETRYING
    assert "HTTP 500" in message.last_error

    sms_server.status = 202
    _frozen.shift(dt.timedelta(minutes=31))
    assert run_due() == 0

    assert len(sms_server.received) == 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.sent_at is not None


def test_a_text_the_provider_refuses_is_recorded_as_failed_with_the_reason_and_not_retried(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    sms_server: SmsInbox,
    _frozen: time_machine.Traveller,
) -> None:
    sms_server.status = 400
    patient = make_patient(personas.clinic, consent_sms=True, preferred_contact="sms")
    appointment = make_appointment(place, patient, dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC))

    assert run_due() == 1
    sms_server.status = 202
    _frozen.shift(dt.timedelta(hours=2))
    assert run_due() == 0

    assert len(sms_server.received) == 1
    delivery = ReminderDelivery.objects.get(appointment=appointment, rule=rules[24])
    assert delivery.status == DeliveryStatus.FAILED
    assert "HTTP 400" in delivery.error
    assert delivery.sent_at is None
    assert OutboxMessage.objects.get().status == OutboxStatus.PARKED


def test_a_clinic_without_rules_gets_the_default_three_day_and_one_day_reminders(
    personas: Personas,
) -> None:
    assert not ReminderRule.objects.filter(clinic=personas.clinic).exists()

    reminders_dispatch_due()

    assert set(
        ReminderRule.objects.filter(clinic=personas.clinic).values_list("hours_before", flat=True)
    ) == {72, 24}
    # A clinic that switched its rules off keeps them off.
    ReminderRule.objects.filter(clinic=personas.clinic).update(is_active=False)
    assert reminder_rules_ensure_defaults() == 0


class WorkerCrashedError(BaseException):
    """Stands for the worker process dying (killed, out of memory) mid-task."""


def test_a_crash_between_claim_and_send_is_sent_once_after_the_lease_runs_out(
    transactional_audit: None,
    personas: Personas,
    place: Place,
    smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    _frozen: time_machine.Traveller,
) -> None:
    reminder_rules_ensure_defaults()
    appointment = make_appointment(
        place, emailer(personas), dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    )

    def crash(*args: Any, **kwargs: Any) -> str:
        raise WorkerCrashedError

    monkeypatch.setattr(outbox, "deliver", crash)
    with pytest.raises(WorkerCrashedError):
        run_due()
    monkeypatch.undo()

    # The restarted worker: the claim's lease still holds, so it sends nothing yet...
    connection.close()
    assert run_due() == 0
    assert smtp_server.messages == []
    # ...and once the lease has run out it sends the reminder, once.
    _frozen.shift(dt.timedelta(minutes=6))
    assert run_due() == 0
    assert run_due() == 0
    assert len(smtp_server.messages) == 1
    delivery = ReminderDelivery.objects.get(appointment=appointment, rule__hours_before=24)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.sent_at is not None


def test_two_workers_racing_for_one_reminder_send_one_message(
    transactional_audit: None, personas: Personas, place: Place, smtp_server: Mailbox
) -> None:
    reminder_rules_ensure_defaults()
    appointment = make_appointment(
        place, emailer(personas), dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    )
    rule = ReminderRule.objects.get(clinic=personas.clinic, hours_before=24)
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            delivery = reminder_claim(appointment_id=appointment.pk, rule_id=rule.pk)
            outcomes.append(None if delivery is None else delivery.status)
            outbox_send_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(map(str, outcomes)) == ["None", "None", "None", "claimed"]
    assert len(smtp_server.messages) == 1
    assert ReminderDelivery.objects.get().status == DeliveryStatus.SENT


def test_a_reminder_that_cannot_be_prepared_is_recorded_as_failed_and_nothing_is_sent(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    appointment = make_appointment(
        place, emailer(personas), dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    )

    def broken(*args: Any, **kwargs: Any) -> None:
        raise LookupError("template missing")

    monkeypatch.setattr(reminders, "reminder_message", broken)
    run_due()

    assert smtp_server.messages == []
    delivery = ReminderDelivery.objects.get(appointment=appointment, rule=rules[24])
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error == "Not prepared: template missing"
    # Parked where administrators see it, not retried by itself.
    assert OutboxMessage.objects.get().status == OutboxStatus.PARKED


def test_a_refused_email_address_never_reaches_the_delivery_row_the_audit_trail_or_the_logs(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    refusing_smtp_server: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    appointment = make_appointment(
        place, emailer(personas), dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    )

    with caplog.at_level("DEBUG", logger="frontdesk"):
        assert run_due() == 1

    delivery = ReminderDelivery.objects.get(appointment=appointment, rule=rules[24])
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error == "The email could not be sent (SMTPRecipientsRefused, SMTP 550)."
    details = [str(event.detail) for event in AuditEvent.objects.filter(object_type="reminder")]
    assert any("SMTP 550" in detail for detail in details)
    frontdesk_logs = [r.getMessage() for r in caplog.records if r.name.startswith("frontdesk")]
    for text in [delivery.error, *details, *frontdesk_logs]:
        assert "maria@example.org" not in text
        assert "example.org" not in text


def test_an_appointment_moved_while_the_job_reads_is_left_for_later_and_the_others_are_sent(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tuesday = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    moving = make_appointment(place, emailer(personas), tuesday)
    staying = make_appointment(
        place, emailer(personas, email="kim@example.org"), tuesday + dt.timedelta(hours=1)
    )
    listed = reminders._reminder_candidates

    def listed_then_moved(rules: list[ReminderRule], now: dt.datetime) -> set[int]:
        found = listed(rules, now)
        # Rescheduled two weeks on by the front desk between the job's two reads.
        later = tuesday + dt.timedelta(days=14)
        later_end = later + dt.timedelta(minutes=30)
        Appointment.objects.filter(pk=moving.pk).update(
            start=later, end=later_end, busy_start=later, busy_end=later_end
        )
        return found

    monkeypatch.setattr(reminders, "_reminder_candidates", listed_then_moved)

    assert run_due() == 1

    assert smtp_server.recipients == [["kim@example.org"]]
    assert ReminderDelivery.objects.filter(appointment=staying).exists()
    assert not ReminderDelivery.objects.filter(appointment=moving).exists()


def move(appointment: Appointment, start: dt.datetime) -> None:
    """Reschedule as the desk or the waitlist does: same appointment row, a new time."""
    end = start + dt.timedelta(minutes=30)
    Appointment.objects.filter(pk=appointment.pk).update(
        start=start, end=end, busy_start=start, busy_end=end
    )


def test_a_moved_appointment_is_reminded_afresh_for_its_new_time_and_only_once(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    smtp_server: Mailbox,
    _frozen: time_machine.Traveller,
) -> None:
    tuesday = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    friday = dt.datetime(2026, 11, 27, 12, 30, tzinfo=dt.UTC)
    appointment = make_appointment(place, emailer(personas), tuesday)
    assert run_due() == 1  # Tuesday's one-day reminder (the three-day one is overtaken)

    move(appointment, friday)
    assert run_due() == 0  # Friday is more than three days ahead
    _frozen.move_to(friday - dt.timedelta(hours=72))
    assert run_due() == 1
    _frozen.move_to(friday - dt.timedelta(hours=24))
    assert run_due() == 1
    assert run_due() == 0
    assert reminder_claim(appointment_id=appointment.pk, rule_id=rules[24].pk) is None

    assert len(smtp_server.messages) == 3
    assert "Friday 27 November 2026" in smtp_server.messages[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert set(
        ReminderDelivery.objects.filter(appointment=appointment).values_list(
            "rule__hours_before", "appointment_start", "status"
        )
    ) == {
        (24, tuesday, "sent"),
        (72, tuesday, "skipped"),
        (72, friday, "sent"),
        (24, friday, "sent"),
    }


def test_a_reminder_queued_before_the_appointment_moved_later_waits_for_the_new_time(
    personas: Personas,
    place: Place,
    rules: dict[int, ReminderRule],
    smtp_server: Mailbox,
    _frozen: time_machine.Traveller,
) -> None:
    tuesday = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    friday = dt.datetime(2026, 11, 27, 12, 30, tzinfo=dt.UTC)
    appointment = make_appointment(place, emailer(personas), tuesday)
    assert reminders_dispatch_due() == 1  # queued in the outbox for Tuesday

    move(appointment, friday)  # before the worker sends it
    outbox_send_due()

    assert smtp_server.messages == []
    skipped = ReminderDelivery.objects.get(appointment_start=tuesday, rule=rules[24])
    assert skipped.status == DeliveryStatus.SKIPPED
    assert "moved" in skipped.error
    assert not ReminderDelivery.objects.filter(appointment_start=friday).exists()
    _frozen.move_to(friday - dt.timedelta(hours=24))
    assert run_due() == 1
    assert len(smtp_server.messages) == 1


def test_deliveries_recorded_before_times_were_kept_are_filled_with_the_appointment_start(
    transactional_audit: None, personas: Personas, place: Place
) -> None:
    reminder_rules_ensure_defaults()
    tuesday = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    appointment = make_appointment(place, emailer(personas), tuesday)
    rule = ReminderRule.objects.get(clinic=personas.clinic, hours_before=24)
    before = [("messaging", "0002_default_reminder_rules")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldDelivery = old.get_model("messaging", "ReminderDelivery")  # noqa: N806
        OldDelivery.objects.create(
            appointment_id=appointment.pk,
            rule_id=rule.pk,
            status="sent",
            channel="email",
            claimed_at=NOW,
            sent_at=NOW,
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    delivery = ReminderDelivery.objects.get()
    assert (delivery.appointment_start, delivery.status) == (tuesday, DeliveryStatus.SENT)
    assert reminder_claim(appointment_id=appointment.pk, rule_id=rule.pk) is None
