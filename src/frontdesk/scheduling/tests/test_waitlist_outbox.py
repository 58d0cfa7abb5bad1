"""Waitlist messages go through the outbox: written with the offer (or with the acceptance that
makes a time gone), sent by the worker, and not sent once they stopped making sense."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType
from frontdesk.messaging import tasks
from frontdesk.messaging.models import OutboxMessage, OutboxStatus
from frontdesk.messaging.outbox import outbox_send_due
from frontdesk.scheduling.models import Appointment, WaitlistOffer
from frontdesk.scheduling.tests.waitlist_support import OnCommit, cancel, reachable, wait
from frontdesk.scheduling.waitlist.entries import waitlist_entry_remove

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")


@pytest.fixture
def worker_asleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue cannot take the wake-up (down, or the worker is not running yet)."""

    def refused(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "outbox_send_task", refused)


def test_offers_are_written_with_the_offer_and_sent_by_the_next_run_when_the_wake_up_is_lost(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
    worker_asleep: None,
) -> None:
    first = wait(personas, reachable(personas, "First"), follow_up)
    second = wait(personas, reachable(personas, "Second"), follow_up)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)

    offers = list(WaitlistOffer.objects.order_by("pk"))
    assert [o.entry_id for o in offers] == [first.pk, second.pk]
    assert mail.outbox == []
    queued = OutboxMessage.objects.order_by("pk")
    assert [m.key for m in queued] == [f"waitlist-offer:{o.pk}" for o in offers]
    assert {m.status for m in queued} == {OutboxStatus.PENDING}

    assert outbox_send_due().sent == 2  # the worker's every-minute run

    assert sorted(m.to[0] for m in mail.outbox) == ["first@example.org", "second@example.org"]
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == {m.message_id for m in queued}
    assert set(WaitlistOffer.objects.values_list("channel", flat=True)) == {"email"}


def test_an_offer_withdrawn_before_the_worker_sends_it_is_not_sent(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
    worker_asleep: None,
) -> None:
    entry = wait(personas, reachable(personas, "Patient"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    waitlist_entry_remove(context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry)
    mail.outbox.clear()

    assert outbox_send_due().cancelled == 1

    assert mail.outbox == []
    message = OutboxMessage.objects.get()
    assert message.last_error == "The offer is withdrawn by the clinic."
    assert WaitlistOffer.objects.get().channel == "not sent"


def test_an_offer_that_expired_while_the_mail_server_was_down_is_not_sent_late(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
    worker_asleep: None,
    waitlist_clock: time_machine.Traveller,
) -> None:
    wait(personas, reachable(personas, "Patient"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    mail.outbox.clear()
    waitlist_clock.move_to(WaitlistOffer.objects.get().expires_at)

    outbox_send_due()

    assert mail.outbox == []
    assert OutboxMessage.objects.get().status == OutboxStatus.CANCELLED
