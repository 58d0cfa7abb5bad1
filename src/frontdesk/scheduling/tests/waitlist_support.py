"""Helpers the waitlist tests share: the clock's NOW, putting patients on the waitlist, booking
and cancelling, the offer links, and the scaffolding of the lock races (the clock, offer
settings, the schedule and the freed time are fixtures in conftest.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.messaging.waitlist_messages import offer_token
from frontdesk.patients.models import Patient
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    CancelledBy,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistPriority,
)
from frontdesk.scheduling.waitlist import offers
from frontdesk.scheduling.waitlist.entries import WaitlistError, waitlist_entry_add
from frontdesk.scheduling.waitlist.offers import (
    _lock_entries,
    _lock_offer,
    waitlist_offer_accept,
    waitlist_time_freed,
)
from frontdesk.scheduling.waitlist.terms import EntryRequest

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York

OnCommit = Callable[..., Any]


def at(tz: zoneinfo.ZoneInfo, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=tz)


def reachable(personas: Personas, name: str, **extra: object) -> Patient:
    return make_patient(
        personas.clinic,
        given_name=name,
        family_name="Waiting",
        email=f"{name.lower()}@example.org",
        consent_email=True,
        **extra,
    )


def wait(
    personas: Personas,
    patient: Patient,
    kind: AppointmentType,
    *,
    priority: int = WaitlistPriority.ROUTINE,
    waiting_since: dt.datetime = NOW,
    providers: list[Provider] | None = None,
    current: Appointment | None = None,
    latest: dt.date = dt.date(2026, 12, 31),
    weekdays: tuple[str, ...] = (),
    time_of_day: str = "",
) -> WaitlistEntry:
    entry = waitlist_entry_add(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        request=EntryRequest(
            appointment_type=kind,
            providers=providers or [],
            location=None,
            earliest_date=dt.date(2026, 11, 23),
            latest_date=latest,
            weekdays=list(weekdays),
            time_of_day=time_of_day,
            priority=priority,
            note="",
            current_appointment=current,
        ),
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=waiting_since)
    return entry


def book(
    personas: Personas, patient: Patient, schedule: Schedule, kind: AppointmentType, start: Any
) -> Appointment:
    return services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=kind,
        start=start,
    )


def cancel(personas: Personas, appointment: Appointment) -> None:
    services.appointment_cancel(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        cancelled_by=CancelledBy.PATIENT,
        reason="feels better",
    )


def offer_of(entry: WaitlistEntry) -> WaitlistOffer:
    return WaitlistOffer.objects.get(entry=entry)


def token_of(entry: WaitlistEntry) -> str:
    return offer_token(offer_of(entry))


def link_of(entry: WaitlistEntry) -> str:
    return reverse("waitlist_offer", kwargs={"token": token_of(entry)})


def request_of(entry: WaitlistEntry, **changes: Any) -> EntryRequest:
    """What the entry waits for now, with `changes` applied."""
    entry.refresh_from_db()
    current = EntryRequest(
        appointment_type=entry.appointment_type,
        providers=list(entry.providers.all()),
        location=entry.location,
        earliest_date=entry.earliest_date,
        latest_date=entry.latest_date,
        weekdays=list(entry.weekdays),
        time_of_day=entry.time_of_day,
        priority=entry.priority,
        note=entry.note,
        current_appointment=entry.current_appointment,
    )
    return dataclasses.replace(current, **changes)


def change_url(entry: WaitlistEntry) -> str:
    return reverse("scheduling:waitlist_change", args=[entry.pk])


def form_data(**fields: Any) -> dict[str, Any]:
    """The waitlist entry form as staff post it, with `fields` filled in or changed."""
    data: dict[str, Any] = {
        "earliest_date": "11/23/2026",
        "latest_date": "12/31/2026",
        "priority": str(WaitlistPriority.ROUTINE),
    }
    data.update(fields)
    return data


def assert_offers_locked_before_the_entry(queries: CaptureQueriesContext) -> None:
    """The first read of the waitlist offers comes before the first read of the entry, as when
    a patient accepts, and on PostgreSQL both lock their rows (FOR UPDATE)."""
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    offer_lock = next(i for i, sql in enumerate(selects) if '"scheduling_waitlistoffer"' in sql)
    entry_lock = next(i for i, sql in enumerate(selects) if '"scheduling_waitlistentry"' in sql)
    assert offer_lock < entry_lock, selects
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in selects[offer_lock], selects[offer_lock]
        assert "FOR UPDATE" in selects[entry_lock], selects[entry_lock]


# --- Lock races (PostgreSQL; the test uses `transactional_audit` so each thread commits) --------


def offered_for_a_race(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> tuple[Appointment, WaitlistEntry, WaitlistOffer]:
    """Leaver's Tuesday 09:00 is booked and cancelled with no test transaction around it, so
    the one waiting patient (Racer) has been offered it on commit: the freed appointment, the
    entry and its open offer."""
    leaver = make_patient(personas.clinic, given_name="Leaver")
    freed = book(personas, leaver, schedule, follow_up, at(clinic_tz, 24, 9))
    entry = wait(personas, reachable(personas, "Racer"), follow_up)
    cancel(personas, freed)  # no test transaction around it: the offer goes out on commit
    offer = WaitlistOffer.objects.get(entry=entry, status=WaitlistOfferStatus.OFFERED)
    return freed, entry, offer


def race_with_acceptance(
    monkeypatch: pytest.MonkeyPatch,
    offer: WaitlistOffer,
    name: str,
    act: Callable[[], object],
) -> dict[str, object]:
    """The patient accepts `offer` in one thread while staff `act` on its entry in another.

    The acceptance takes the offer's lock and holds it until `act` is waiting for a lock (at
    most about 10 s), then goes on. Returns what each came to: "accept" the acceptance's
    outcome, `name` what `act` returned or the message of the WaitlistError it raised; any
    other exception is kept as it is, so the test's assertion shows what went wrong.
    """
    offer_held, go_on = threading.Event(), threading.Event()
    lock_offer = _lock_offer

    def hold_offer_then_lock(offer_id: int) -> tuple[WaitlistOffer, WaitlistEntry]:
        # The acceptance holds its offer's lock until the other side is waiting for a lock.
        WaitlistOffer.objects.select_for_update().get(pk=offer_id)
        offer_held.set()
        go_on.wait(timeout=10)
        return lock_offer(offer_id)

    monkeypatch.setattr(offers, "_lock_offer", hold_offer_then_lock)

    def accept() -> object:
        return waitlist_offer_accept(context=SYSTEM_CONTEXT, offer_id=offer.pk).outcome

    return _race(
        ("accept", accept), (name, act), held=offer_held, go_on=go_on, what="the offer's lock"
    )


def _outcome(results: dict[str, object], key: str, work: Callable[[], object], words: bool) -> None:
    """Run `work` in this thread: its result, its WaitlistError's message (`words`), or any
    other exception as it is (the test's assertion shows what went wrong)."""
    try:
        results[key] = work()
    except WaitlistError as exc:
        results[key] = str(exc) if words else exc
    except Exception as exc:
        results[key] = exc
    finally:
        connection.close()


def _race(
    first: tuple[str, Callable[[], object]],
    staff: tuple[str, Callable[[], object]],
    *,
    held: threading.Event,
    go_on: threading.Event,
    what: str,
) -> dict[str, object]:
    """`first` runs until it has set `held` (and then waits for `go_on`); `staff` then runs
    until it waits for a lock, and both are let go. Returns what each came to."""
    results: dict[str, object] = {}
    leading = threading.Thread(target=_outcome, args=(results, *first, False))
    leading.start()
    if not held.wait(timeout=10):
        go_on.set()
        leading.join()
        raise AssertionError(f"{first[0]} never took {what}: {results}")
    acting = threading.Thread(target=_outcome, args=(results, *staff, True))
    acting.start()
    raced = until_someone_waits_for_a_lock(go_on)
    go_on.set()
    leading.join()
    acting.join()
    assert raced, "nobody waited for a lock: the race this test is about never happened"
    return results


def until_someone_waits_for_a_lock(go_on: threading.Event) -> bool:
    """True once a session of the test database waits for a row lock (PostgreSQL); False after
    about 10 s without one (the race did not happen). Polls every 10 ms without sleeping the
    thread."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            go_on.wait(timeout=0.01)
    return False


def race_with_offering(
    monkeypatch: pytest.MonkeyPatch,
    freed: Appointment,
    name: str,
    act: Callable[[], object],
) -> dict[str, object]:
    """The freed time is offered in one thread while staff `act` in another, once the offering
    holds the locks of the entries it offers to.

    The offering holds them until `act` is waiting for a lock (at most about 10 s), then goes
    on. Returns what each came to: "offer" the offers made, `name` what `act` returned or the
    message of the WaitlistError it raised; any other exception is kept as it is.
    """
    entries_held, go_on = threading.Event(), threading.Event()
    lock_entries = _lock_entries

    def lock_then_hold(entry_ids: Any) -> None:
        lock_entries(entry_ids)
        if not entries_held.is_set():  # the offering under test, not a later handing on
            entries_held.set()
            go_on.wait(timeout=10)

    monkeypatch.setattr(offers, "_lock_entries", lock_then_hold)

    def offer() -> object:
        return waitlist_time_freed(schedule_id=freed.schedule_id, start=freed.start, end=freed.end)

    return _race(
        ("offer", offer), (name, act), held=entries_held, go_on=go_on, what="an entry's lock"
    )
