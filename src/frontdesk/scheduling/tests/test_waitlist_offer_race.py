"""Freed time offered while staff change or remove a waiting patient's entry: the offer follows
whatever committed first, so a patient is never offered a time their entry no longer waits for,
and acceptance checks the entry's terms once more."""

from __future__ import annotations

import threading
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from conftest import Personas
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistPriority,
    WaitlistStatus,
)
from frontdesk.scheduling.tests.waitlist_support import (
    OnCommit,
    at,
    cancel,
    link_of,
    offer_of,
    race_with_offering,
    reachable,
    request_of,
    wait,
)
from frontdesk.scheduling.waitlist import offers
from frontdesk.scheduling.waitlist.entries import (
    waitlist_entry_book,
    waitlist_entry_change,
    waitlist_entry_remove,
)
from frontdesk.scheduling.waitlist.offers import waitlist_offer_accept, waitlist_time_freed
from frontdesk.scheduling.waitlist.selectors import Candidate, waitlist_candidates
from frontdesk.scheduling.waitlist.terms import OfferOutcome

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one write transaction at a time: the offering reads and writes alone",
)


@pytest.fixture
def offers_at_once() -> int:
    return 1


def first_and_next(
    personas: Personas, follow_up: AppointmentType
) -> tuple[WaitlistEntry, WaitlistEntry]:
    """Racer (urgent) is first in line for any follow-up time, Next (routine) after them."""
    first = wait(
        personas, reachable(personas, "Racer"), follow_up, priority=WaitlistPriority.URGENT
    )
    return first, wait(personas, reachable(personas, "Next"), follow_up)


def offers_in(result: object) -> list[WaitlistOffer]:
    """The offers a racing thread came to (its exception, if it raised one, fails here)."""
    assert isinstance(result, list), result
    return result


def open_offers(entry: WaitlistEntry) -> list[WaitlistOffer]:
    return list(WaitlistOffer.objects.filter(entry=entry, status=WaitlistOfferStatus.OFFERED))


@contextmanager
def offering_paused_after_reading(
    monkeypatch: pytest.MonkeyPatch, freed: Appointment
) -> Iterator[dict[str, object]]:
    """The freed time is offered in a thread that pauses once it has read the waitlist (no
    locks held yet) until the block ends. Yields the results, where "offer" is what the
    offering came to (its exception, if it raised one)."""
    read, go_on = threading.Event(), threading.Event()
    candidates = waitlist_candidates

    def read_then_pause(**kwargs: Any) -> list[Candidate]:
        found = candidates(**kwargs)
        if not read.is_set():
            read.set()
            go_on.wait(timeout=10)
        return found

    monkeypatch.setattr(offers, "waitlist_candidates", read_then_pause)
    results: dict[str, object] = {}

    def offer() -> None:
        try:
            results["offer"] = waitlist_time_freed(
                schedule_id=freed.schedule_id, start=freed.start, end=freed.end
            )
        except Exception as exc:  # the test's assertion shows it
            results["offer"] = exc
        finally:
            connection.close()

    offering = threading.Thread(target=offer)
    offering.start()
    try:
        assert read.wait(timeout=10), "the offering never read the waitlist"
        yield results
    finally:
        go_on.set()
        offering.join()


def test_an_entry_changed_after_the_waitlist_is_read_is_checked_again_before_it_is_offered(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    racer, nxt = first_and_next(personas, follow_up)
    afternoons_only = request_of(racer, time_of_day="afternoon")
    read = waitlist_candidates
    changes: list[object] = []

    def read_then_change(**kwargs: Any) -> list[Candidate]:
        found = read(**kwargs)
        if not changes:  # the desk saves "afternoons only" just after the first reading
            changes.append(
                waitlist_entry_change(
                    context=SYSTEM_CONTEXT,
                    user=personas.front_desk,
                    entry=racer,
                    request=afternoons_only,
                )
            )
        return found

    monkeypatch.setattr(offers, "waitlist_candidates", read_then_change)

    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)

    assert changes == [[]]  # nothing was out for Racer to withdraw yet
    racer.refresh_from_db()
    assert racer.time_of_day == "afternoon"
    assert not WaitlistOffer.objects.filter(entry=racer).exists()
    assert [(o.start, o.status) for o in WaitlistOffer.objects.filter(entry=nxt)] == [
        (freed.start, WaitlistOfferStatus.OFFERED)
    ]


@needs_postgres
def test_a_change_committed_while_freed_time_is_being_offered_is_respected(
    transactional_audit: None,
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancel(personas, freed)  # nobody waits yet: nothing is offered
    racer, nxt = first_and_next(personas, follow_up)
    afternoons_only = request_of(racer, time_of_day="afternoon")
    with offering_paused_after_reading(monkeypatch, freed) as results:
        # The desk saves "afternoons only" (its own transaction, committed) while the
        # 09:00 time is being offered.
        results["change"] = waitlist_entry_change(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            entry=racer,
            request=afternoons_only,
        )

    assert results["change"] == []
    assert [o.entry_id for o in offers_in(results["offer"])] == [nxt.pk]
    racer.refresh_from_db()
    assert racer.time_of_day == "afternoon"
    assert not WaitlistOffer.objects.filter(entry=racer).exists()
    assert [o.start.astimezone(clinic_tz) for o in open_offers(nxt)] == [at(clinic_tz, 24, 9)]


@needs_postgres
def test_a_change_saved_while_the_time_is_offered_waits_and_then_withdraws_the_offer(
    transactional_audit: None,
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancel(personas, freed)  # nobody waits yet: nothing is offered
    racer, nxt = first_and_next(personas, follow_up)
    afternoons_only = request_of(racer, time_of_day="afternoon")

    def change() -> list[WaitlistOffer]:
        return waitlist_entry_change(
            context=SYSTEM_CONTEXT, user=personas.front_desk, entry=racer, request=afternoons_only
        )

    results = race_with_offering(monkeypatch, freed, "change", change)

    (made,) = offers_in(results["offer"])
    assert made.entry_id == racer.pk
    assert [o.pk for o in offers_in(results["change"])] == [made.pk]
    assert offer_of(racer).status == WaitlistOfferStatus.WITHDRAWN
    assert [o.start for o in open_offers(nxt)] == [freed.start]
    racer.refresh_from_db()
    assert (racer.status, racer.time_of_day) == (WaitlistStatus.WAITING, "afternoon")
    (audit,) = AuditEvent.objects.filter(
        object_type="waitlist_entry", detail__event="waitlist entry changed"
    )
    assert audit.detail["withdrawn"] == [made.pk]


@needs_postgres
def test_a_removal_saved_while_the_time_is_offered_waits_and_then_withdraws_the_offer(
    transactional_audit: None,
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancel(personas, freed)  # nobody waits yet: nothing is offered
    racer, nxt = first_and_next(personas, follow_up)

    def remove() -> str:
        waitlist_entry_remove(context=SYSTEM_CONTEXT, user=personas.front_desk, entry=racer)
        return "removed"

    results = race_with_offering(monkeypatch, freed, "remove", remove)

    (made,) = offers_in(results["offer"])
    assert (made.entry_id, results["remove"]) == (racer.pk, "removed")
    assert offer_of(racer).status == WaitlistOfferStatus.WITHDRAWN
    assert [o.start for o in open_offers(nxt)] == [freed.start]
    racer.refresh_from_db()
    assert racer.status == WaitlistStatus.REMOVED


@needs_postgres
def test_booking_a_waiting_patient_by_hand_while_their_time_is_offered_never_deadlocks(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    freed: Appointment,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancel(personas, freed)  # nobody waits yet: nothing is offered
    racer, nxt = first_and_next(personas, follow_up)
    with offering_paused_after_reading(monkeypatch, freed) as results:
        # The desk books Racer by hand at 14:00 with the same provider meanwhile: the booking
        # queues on the provider's row, which the offering must not hold.
        booked = waitlist_entry_book(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            entry=racer,
            schedule=schedule,
            start=at(clinic_tz, 24, 14),
        )

    assert [o.entry_id for o in offers_in(results["offer"])] == [nxt.pk]
    assert booked.status == AppointmentStatus.BOOKED
    racer.refresh_from_db()
    assert racer.status == WaitlistStatus.BOOKED
    assert not WaitlistOffer.objects.filter(entry=racer).exists()


def test_accepting_an_offer_the_entry_no_longer_waits_for_books_nothing_and_hands_it_on(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    racer, nxt = first_and_next(personas, follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    offer = offer_of(racer)
    # Changed behind the waitlist page's back (a fix typed into the database by hand).
    WaitlistEntry.objects.filter(pk=racer.pk).update(time_of_day="afternoon")

    with django_capture_on_commit_callbacks(execute=True):
        answer = Client().post(link_of(racer), {"answer": "accept"})

    assert answer.status_code == 410
    assert b"changed or closed by the clinic" in answer.content
    assert not Appointment.objects.filter(patient=racer.patient).exists()
    offer.refresh_from_db()
    assert (offer.status, offer.appointment_id) == (WaitlistOfferStatus.WITHDRAWN, None)
    racer.refresh_from_db()
    assert racer.status == WaitlistStatus.WAITING
    assert [o.start for o in open_offers(nxt)] == [freed.start]
    refused = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_type="waitlist_offer", object_id=str(offer.pk)
    )
    assert refused.detail == {"event": "acceptance refused", "status": "withdrawn", "fits": False}
    assert refused.patient_ids == [racer.patient_id]


def test_accepting_an_offer_that_still_fits_its_entry_books_it(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    racer, _ = first_and_next(personas, follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    WaitlistEntry.objects.filter(pk=racer.pk).update(time_of_day="morning", weekdays="12")

    answer = waitlist_offer_accept(context=SYSTEM_CONTEXT, offer_id=offer_of(racer).pk)

    assert answer.outcome == OfferOutcome.ACCEPTED
    assert Appointment.objects.get(patient=racer.patient).start == freed.start
