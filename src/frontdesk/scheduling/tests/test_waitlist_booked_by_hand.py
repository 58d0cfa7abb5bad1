"""A time out on a waitlist offer, booked, moved or overbooked by hand: the officer is told and
asked first; going ahead withdraws the offer in the booking's own transaction, and the patient's
link says so politely."""

from __future__ import annotations

import threading
import zoneinfo
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType
from frontdesk.messaging.models import OutboxMessage
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.tests.waitlist_support import (
    NOW,
    OnCommit,
    _race,
    at,
    book,
    cancel,
    link_of,
    offer_of,
    offered_for_a_race,
    reachable,
    wait,
)
from frontdesk.scheduling.waitlist.notices import GONE_KIND
from frontdesk.scheduling.waitlist.offers import waitlist_offer_accept

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")

WARNING = (
    "This time is offered to a patient on the waitlist until 10:00; "
    "booking it withdraws that offer."
)


@pytest.fixture
def offers_at_once() -> int:
    return 1


@pytest.fixture
def offered(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> WaitlistEntry:
    """Pat waits; the freed Tuesday 09:00 has been offered to Pat until 10:00 (two hours)."""
    entry = wait(personas, reachable(personas, "Pat"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    assert offer_of(entry).status == WaitlistOfferStatus.OFFERED
    return entry


def book_fields(freed: Appointment, **extra: str) -> dict[str, Any]:
    return {
        "schedule": freed.schedule_id,
        "appointment_type": freed.appointment_type_id,
        "start": freed.start.isoformat(),
        "confirm": "yes",
        **extra,
    }


def assert_withdrawn_for_the_booking(entry: WaitlistEntry) -> WaitlistOffer:
    offer = offer_of(entry)
    assert offer.status == WaitlistOfferStatus.WITHDRAWN
    assert offer.withdrawn_for_booking
    assert offer.responded_at == NOW
    (event,) = AuditEvent.objects.filter(
        action=AuditAction.UPDATE,
        object_type="waitlist_offer",
        detail__event="offers withdrawn: the time was booked by hand",
    )
    assert event.detail["offers"] == [offer.pk]
    assert event.patient_ids == [entry.patient_id]
    return offer


def test_booking_an_offered_time_says_so_first_books_nothing_and_keeps_what_was_typed(
    personas: Personas, offered: WaitlistEntry, freed: Appointment
) -> None:
    caller = make_patient(personas.clinic, given_name="Caller")
    client = login_client(Client(), personas.front_desk)

    fields = book_fields(freed, confirm_overlap="yes", reason="knee pain", note="call after 5")
    page = client.post(reverse("scheduling:book", args=[caller.pk]), fields)

    assert page.status_code == 409
    html = page.content.decode()
    assert WARNING in html
    assert "Book anyway" in html
    for name, value in fields.items():
        assert f'name="{name}" value="{value}"' in html
    # Choosing another time posts the same fields back to the times: nothing typed is lost.
    assert f'formaction="{reverse("scheduling:find", args=[caller.pk])}"' in html
    assert 'name="confirm_offered" value="yes"' in html
    assert not Appointment.objects.filter(patient=caller).exists()
    assert offer_of(offered).status == WaitlistOfferStatus.OFFERED


def test_booking_anyway_withdraws_the_offer_in_the_same_transaction_and_the_link_says_so(
    personas: Personas,
    offered: WaitlistEntry,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    caller = make_patient(personas.clinic, given_name="Caller")
    client = login_client(Client(), personas.front_desk)
    mail.outbox.clear()
    gone_before = OutboxMessage.objects.filter(kind=GONE_KIND).count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("scheduling:book", args=[caller.pk]),
            book_fields(freed, confirm_offered="yes"),
        )

    booked = Appointment.objects.get(patient=caller)
    assert response.status_code == 302
    assert booked.start == freed.start
    assert_withdrawn_for_the_booking(offered)
    # No "time taken" note: the withdrawn offer's link says it all.
    assert OutboxMessage.objects.filter(kind=GONE_KIND).count() == gone_before
    assert mail.outbox == []

    link = Client().get(link_of(offered))
    assert link.status_code == 410
    html = link.content.decode()
    assert "This offer is no longer open" in html
    assert "the clinic had to give this time to another patient" in html
    assert "You are still on our waitlist" in html
    for absent in ("Caller", "Yes, I take this time", "Your waitlist request was changed"):
        assert absent not in html
    offered.refresh_from_db()
    assert offered.status == WaitlistStatus.WAITING

    accepted = Client().post(link_of(offered), {"answer": "accept"})
    assert accepted.status_code == 410
    assert b"had to give this time to another patient" in accepted.content
    assert Appointment.objects.filter(start=freed.start, status="booked").count() == 1


def test_moving_an_appointment_into_an_offered_time_asks_first_then_withdraws_the_offer(
    personas: Personas,
    offered: WaitlistEntry,
    freed: Appointment,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    mover = book(
        personas,
        make_patient(personas.clinic, given_name="Mover"),
        schedule,
        follow_up,
        at(clinic_tz, 24, 14),
    )
    client = login_client(Client(), personas.front_desk)
    url = reverse("scheduling:appointment_move", args=[mover.pk])
    fields = {"schedule": freed.schedule_id, "start": freed.start.isoformat(), "reason": "sooner"}

    asked = client.post(url, fields)

    assert asked.status_code == 409
    assert WARNING in asked.content.decode()
    assert b"Move anyway" in asked.content
    assert b'name="reason" value="sooner"' in asked.content
    mover.refresh_from_db()
    assert mover.start == at(clinic_tz, 24, 14)

    moved = client.post(url, {**fields, "confirm_offered": "yes"})

    assert moved.status_code == 302
    mover.refresh_from_db()
    assert mover.start == freed.start
    assert_withdrawn_for_the_booking(offered)


def test_overbooking_into_an_offered_time_asks_first_then_withdraws_the_offer(
    personas: Personas, offered: WaitlistEntry, freed: Appointment
) -> None:
    urgent = make_patient(personas.clinic, given_name="Urgent")
    client = login_client(Client(), personas.supervisor)
    fields = book_fields(freed, overbook_reason="chest pain, seen today")

    asked = client.post(reverse("scheduling:book", args=[urgent.pk]), fields)

    assert asked.status_code == 409
    assert WARNING in asked.content.decode()
    assert b'name="overbook_reason" value="chest pain, seen today"' in asked.content
    assert not Appointment.objects.filter(patient=urgent).exists()

    done = client.post(
        reverse("scheduling:book", args=[urgent.pk]), {**fields, "confirm_offered": "yes"}
    )

    assert done.status_code == 302
    assert Appointment.objects.get(patient=urgent).is_overbook
    assert_withdrawn_for_the_booking(offered)


def test_an_expired_offer_is_booked_over_without_asking(
    personas: Personas,
    offered: WaitlistEntry,
    freed: Appointment,
    waitlist_clock: Any,
) -> None:
    caller = make_patient(personas.clinic, given_name="Caller")
    waitlist_clock.shift(121 * 60)  # the offer ran out at 10:00
    client = login_client(Client(), personas.front_desk)

    response = client.post(reverse("scheduling:book", args=[caller.pk]), book_fields(freed))

    assert response.status_code == 302
    assert Appointment.objects.filter(patient=caller, start=freed.start).exists()
    assert offer_of(offered).status == WaitlistOfferStatus.OFFERED  # the worker expires it


def test_the_service_refuses_an_offered_time_unless_told_what_to_do_with_the_offer(
    personas: Personas,
    offered: WaitlistEntry,
    freed: Appointment,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    caller = make_patient(personas.clinic, given_name="Caller")
    # 09:15 for 30 minutes overlaps the offered 09:00-09:30 visit.
    with pytest.raises(services.OfferedTimeError) as refused:
        book(personas, caller, schedule, follow_up, at(clinic_tz, 24, 9, 15))
    assert str(refused.value) == WARNING
    assert [o.pk for o in refused.value.offers] == [offer_of(offered).pk]
    # 09:30 is clear of the offered visit: no question asked.
    book(personas, caller, schedule, follow_up, at(clinic_tz, 24, 9, 30))
    assert offer_of(offered).status == WaitlistOfferStatus.OFFERED


def test_booking_a_waiting_patient_into_a_time_offered_to_another_asks_first(
    personas: Personas,
    offered: WaitlistEntry,
    freed: Appointment,
    follow_up: AppointmentType,
) -> None:
    by_phone = wait(personas, make_patient(personas.clinic, given_name="Phoner"), follow_up)
    client = login_client(Client(), personas.front_desk)
    fields = {
        "entry": by_phone.pk,
        "schedule": freed.schedule_id,
        "start": freed.start.isoformat(),
        "end": freed.end.isoformat(),
        "at": freed.start.isoformat(),
    }

    asked = client.post(reverse("scheduling:waitlist_book"), fields)

    assert asked.status_code == 409
    assert WARNING in asked.content.decode()
    assert not Appointment.objects.filter(patient=by_phone.patient).exists()
    booked = client.post(reverse("scheduling:waitlist_book"), {**fields, "confirm_offered": "yes"})
    assert booked.status_code == 302
    assert Appointment.objects.filter(patient=by_phone.patient, start=freed.start).exists()
    assert offer_of(offered).status == WaitlistOfferStatus.GONE  # told, as before


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one write transaction at a time: there is no race to lose",
)


@needs_postgres
def test_a_booking_by_hand_and_an_acceptance_at_once_never_deadlock_and_one_gets_the_time(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    freed, _entry, offer = offered_for_a_race(personas, schedule, follow_up, clinic_tz)
    caller = make_patient(personas.clinic, given_name="Caller")
    provider_held, go_on = threading.Event(), threading.Event()
    provider_lock = services._provider_lock

    def lock_then_hold(provider_id: int) -> None:
        provider_lock(provider_id)
        if not provider_held.is_set():  # the booking by hand, which runs first
            provider_held.set()
            go_on.wait(timeout=10)

    monkeypatch.setattr(services, "_provider_lock", lock_then_hold)

    def by_hand() -> object:
        return services.appointment_book(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            patient=caller,
            schedule=schedule,
            appointment_type=follow_up,
            start=freed.start,
            offers=services.OpenOffers.WITHDRAW,
        )

    def accept() -> object:
        return waitlist_offer_accept(context=SYSTEM_CONTEXT, offer_id=offer.pk).outcome

    # The desk holds the provider's row while the patient's acceptance, holding its offer,
    # queues on it: the desk must not wait for the offer (a deadlock), and the constraint
    # decides who has the time.
    results = _race(
        ("by hand", by_hand),
        ("accept", accept),
        held=provider_held,
        go_on=go_on,
        what="the provider's lock",
    )

    assert isinstance(results["by hand"], Appointment), results
    assert results["accept"] == "gone", results
    offer.refresh_from_db()
    assert offer.status == WaitlistOfferStatus.GONE
    assert list(Appointment.objects.filter(start=freed.start, status="booked")) == [
        results["by hand"]
    ]
