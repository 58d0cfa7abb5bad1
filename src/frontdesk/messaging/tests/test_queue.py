from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from huey import SqliteHuey  # type: ignore[import-untyped]
from huey.contrib.djhuey import HUEY  # type: ignore[import-untyped]

from conftest import Personas, make_patient
from frontdesk.messaging import tasks
from frontdesk.messaging.models import DeliveryStatus, ReminderDelivery, ReminderRule
from frontdesk.messaging.outbox import outbox_send_due
from frontdesk.messaging.reminders import reminder_rules_ensure_defaults, reminders_dispatch_due
from frontdesk.messaging.tests.conftest import Mailbox, Place, make_appointment
from frontdesk.scheduling.models import Appointment


def reminded_patient_appointment(personas: Personas, place: Place) -> Appointment:
    reminder_rules_ensure_defaults()
    patient = make_patient(
        personas.clinic,
        given_name="Maria",
        email="maria@example.org",
        consent_email=True,
        preferred_contact="email",
    )
    return make_appointment(place, patient, timezone.now() + dt.timedelta(hours=20))


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[Any]:
    """A real SQLite-backed huey queue worked by huey's own consumer (two worker threads)."""
    huey = SqliteHuey("frontdesk-test", filename=str(tmp_path / "queue.sqlite3"))
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield huey
    for sig, handler in saved.items():  # the consumer installs its own handlers
        signal.signal(sig, handler)


def test_due_reminders_go_through_a_real_queue_and_consumer_once_each(
    transactional_audit: None, personas: Personas, place: Place, smtp_server: Mailbox, queue: Any
) -> None:
    appointment = reminded_patient_appointment(personas, place)

    @queue.task()  # type: ignore[untyped-decorator]
    def send() -> int:
        try:
            return outbox_send_due().sent
        finally:
            connection.close()

    @queue.task()  # type: ignore[untyped-decorator]
    def dispatch() -> int:
        try:
            return reminders_dispatch_due()
        finally:
            connection.close()

    consumer = queue.create_consumer(
        workers=2,
        worker_type="thread",
        periodic=False,
        initial_delay=0.05,
        max_delay=0.2,
        shutdown_timeout=30,
    )
    consumer.start()
    try:
        assert dispatch().get(blocking=True, timeout=30) == 1
        # Two sends queued at once, run by the two worker threads: one message goes out.
        first, second = send(), send()
        assert sorted(
            [first.get(blocking=True, timeout=30), second.get(blocking=True, timeout=30)]
        ) == [0, 1]
        # The worker restarts and the queue hands the tasks out again: nothing more is sent.
        assert send().get(blocking=True, timeout=30) == 0
        assert dispatch().get(blocking=True, timeout=30) == 0
    finally:
        consumer.stop(graceful=True)

    assert len(smtp_server.messages) == 1
    delivery = ReminderDelivery.objects.get(appointment=appointment, rule__hours_before=24)
    assert delivery.status == DeliveryStatus.SENT


def test_the_every_minute_task_runs_through_the_configured_huey(
    personas: Personas, place: Place, smtp_server: Mailbox
) -> None:
    appointment = reminded_patient_appointment(personas, place)
    due_rule = ReminderRule.objects.get(clinic=personas.clinic, hours_before=24)
    assert HUEY.immediate  # tests run the configured queue in-process
    # Registered as periodic, and due at any minute of the day.
    periodic = HUEY._registry.periodic_tasks
    (due_task,) = [task for task in periodic if task.name.endswith("reminders_due_task")]
    assert due_task.validate_datetime(dt.datetime(2026, 11, 23, 13, 7))  # noqa: DTZ001 - huey's clock
    (outbox_task,) = [t for t in periodic if t.name.endswith("outbox_every_minute_task")]
    assert outbox_task.validate_datetime(dt.datetime(2026, 11, 23, 13, 8))  # noqa: DTZ001

    # Huey keeps no return value of periodic tasks: what arrived is the evidence.
    tasks.reminders_due_task()
    tasks.reminders_due_task()
    assert tasks.reminder_send_task(appointment.pk, due_rule.pk).get() == "taken elsewhere"

    assert len(smtp_server.messages) == 1
    assert ReminderDelivery.objects.get(appointment=appointment, rule__hours_before=24).status == (
        DeliveryStatus.SENT
    )
