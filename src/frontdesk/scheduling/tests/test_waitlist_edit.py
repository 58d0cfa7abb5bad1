"""Changing an open waitlist entry, and the offer emails' text and HTML parts."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.messaging.tests.conftest import Mailbox, _serve_smtp
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import (
    Appointment,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistPriority,
    WaitlistStatus,
)
from frontdesk.scheduling.tests.waitlist_support import (
    NOW,
    OnCommit,
    assert_offers_locked_before_the_entry,
    at,
    book,
    cancel,
    change_url,
    form_data,
    link_of,
    offer_of,
    offered_for_a_race,
    race_with_acceptance,
    reachable,
    request_of,
    wait,
)
from frontdesk.scheduling.waitlist.entries import (
    WaitlistError,
    waitlist_entry_change,
    waitlist_entry_closed_message,
)

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")


@pytest.fixture
def offers_at_once() -> int:
    return 1


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Mailbox]:
    """The loopback SMTP server the messaging tests read real deliveries from."""
    yield from _serve_smtp(Mailbox(), settings)


def change_audits(entry: WaitlistEntry) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.UPDATE, object_type="waitlist_entry", object_id=str(entry.pk)
        ).exclude(detail__event="removed from the waitlist")
    )


# --- Changing an entry --------------------------------------------------------------------------


def test_the_waitlist_row_links_to_a_change_form_filled_in_with_the_entry(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule
) -> None:
    entry = wait(
        personas,
        reachable(personas, "Petra"),
        follow_up,
        providers=[schedule.provider],
        weekdays=("1", "3"),
        time_of_day="morning",
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(note="cannot climb stairs")
    client = login_client(Client(), personas.front_desk)

    listing = client.get(reverse("scheduling:waitlist"))
    assert change_url(entry).encode() in listing.content
    page = client.get(change_url(entry))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Change what Petra waits for" in html
    assert 'value="cannot climb stairs"' in html
    assert re.search(rf'value="{follow_up.pk}"\s+selected', html)
    assert re.search(rf'name="providers" value="{schedule.provider_id}"[^>]*checked', html)
    assert re.search(r'name="weekdays" value="1"[^>]*checked', html)
    assert re.search(r'name="weekdays" value="3"[^>]*checked', html)
    assert not re.search(r'name="weekdays" value="0"[^>]*checked', html)
    assert re.search(r'value="morning"\s+selected', html)
    assert 'value="2026-12-31"' in html
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="waitlist_entry_form", object_id=str(entry.pk)
    ).exists()


def test_staff_change_an_open_entry_and_it_is_saved_and_audited(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule
) -> None:
    entry = wait(personas, reachable(personas, "Petra"), follow_up)
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        change_url(entry),
        form_data(
            appointment_type=follow_up.pk,
            providers=[schedule.provider_id],
            location=schedule.location_id,
            earliest_date="11/30/2026",
            latest_date="12/18/2026",
            weekdays=["4", "0"],
            time_of_day="afternoon",
            priority=str(WaitlistPriority.URGENT),
            note="  after school only  ",
        ),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("scheduling:waitlist")
    assert b"The waitlist entry of Petra Waiting is changed." in response.content
    assert b"after school only" in response.content
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING
    assert list(entry.providers.all()) == [schedule.provider]
    assert entry.location_id == schedule.location_id
    assert (entry.earliest_date, entry.latest_date) == (
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 18),
    )
    assert (entry.weekdays, entry.time_of_day) == ("04", "afternoon")
    assert (entry.priority, entry.note) == (WaitlistPriority.URGENT, "after school only")
    (audit,) = change_audits(entry)
    assert audit.patient_ids == [entry.patient_id]
    assert audit.actor_username == personas.front_desk.username
    assert set(audit.detail["changed"]) == {
        "location",
        "earliest_date",
        "latest_date",
        "weekdays",
        "time_of_day",
        "priority",
        "note",
        "providers",
    }
    assert "after school" not in str(audit.detail)  # the note's words stay out of the trail


def test_mistakes_on_the_change_form_are_explained_and_keep_what_was_typed(
    personas: Personas, follow_up: AppointmentType
) -> None:
    entry = wait(personas, reachable(personas, "Petra"), follow_up)
    client = login_client(Client(), personas.front_desk)

    reversed_dates = client.post(
        change_url(entry),
        form_data(
            appointment_type=follow_up.pk,
            earliest_date="12/20/2026",
            latest_date="12/01/2026",
            note="typed with care",
        ),
    )
    bad_date = client.post(
        change_url(entry),
        form_data(appointment_type=follow_up.pk, latest_date="31/31/2026", note="typed again"),
    )
    no_type = client.post(change_url(entry), form_data(appointment_type="", note="third try"))

    assert reversed_dates.status_code == 400
    assert b"The last day must be on or after the first day." in reversed_dates.content
    assert b"typed with care" in reversed_dates.content
    assert b'value="12/20/2026"' in reversed_dates.content
    assert bad_date.status_code == 400
    assert b"Type the date as" in bad_date.content
    assert b'value="31/31/2026"' in bad_date.content
    assert b"typed again" in bad_date.content
    assert no_type.status_code == 400
    assert b"Choose the type of visit." in no_type.content
    assert b"third try" in no_type.content
    entry.refresh_from_db()
    assert (entry.latest_date, entry.note) == (dt.date(2026, 12, 31), "")
    assert change_audits(entry) == []


def test_changing_to_a_type_the_patient_already_waits_for_is_refused_as_adding_is(
    personas: Personas, follow_up: AppointmentType
) -> None:
    patient = reachable(personas, "Petra")
    check_up = AppointmentType.objects.create(
        clinic=personas.clinic, name="Annual check-up", duration_minutes=30
    )
    wait(personas, patient, check_up)
    entry = wait(personas, patient, follow_up)
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        change_url(entry), form_data(appointment_type=check_up.pk, note="keep me")
    )

    assert response.status_code == 400
    assert b"Petra Waiting is already waiting for a Annual check-up" in response.content
    assert b"keep me" in response.content
    entry.refresh_from_db()
    assert entry.appointment_type_id == follow_up.pk


def test_an_entry_that_keeps_a_booking_must_keep_waiting_for_the_same_type_of_visit(
    personas: Personas, schedule: Schedule, follow_up: AppointmentType, clinic_tz: Any
) -> None:
    patient = reachable(personas, "Petra")
    later = book(personas, patient, schedule, follow_up, at(clinic_tz, 27, 10))
    entry = wait(personas, patient, follow_up, current=later)
    other = AppointmentType.objects.create(
        clinic=personas.clinic, name="Annual check-up", duration_minutes=30
    )
    client = login_client(Client(), personas.front_desk)

    page = client.get(change_url(entry))
    response = client.post(change_url(entry), form_data(appointment_type=other.pk))

    assert b"keeps the appointment on Friday, November 27, 10:00" in page.content
    assert response.status_code == 400
    assert b"wait for the same type of visit (Follow-up visit)" in response.content
    with pytest.raises(WaitlistError, match="same type of visit"):
        waitlist_entry_change(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            entry=entry,
            request=request_of(entry, appointment_type=other),
        )
    entry.refresh_from_db()
    assert (entry.appointment_type_id, entry.current_appointment_id) == (follow_up.pk, later.pk)


@pytest.mark.parametrize("closing", ["removed", "booked"])
def test_a_booked_or_removed_entry_cannot_be_changed(
    personas: Personas, follow_up: AppointmentType, closing: str
) -> None:
    entry = wait(personas, reachable(personas, "Petra"), follow_up)
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=closing, closed_at=NOW)
    client = login_client(Client(), personas.front_desk)

    opened = client.get(change_url(entry), follow=True)
    posted = client.post(
        change_url(entry),
        form_data(appointment_type=follow_up.pk, priority="1", note="too late"),
    )

    words = "been removed from" if closing == "removed" else "already been booked from"
    assert opened.redirect_chain[-1][0] == f"{reverse('scheduling:waitlist')}?show=closed"
    assert f"This patient has {words} the waitlist".encode() in opened.content
    assert b"cannot be changed" in opened.content
    assert posted.status_code == 400
    assert b"cannot be changed" in posted.content
    assert b"too late" in posted.content
    with pytest.raises(WaitlistError, match="cannot be changed"):
        waitlist_entry_change(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            entry=entry,
            request=request_of(entry, priority=WaitlistPriority.URGENT),
        )
    entry.refresh_from_db()
    assert (entry.status, entry.priority, entry.note) == (closing, WaitlistPriority.ROUTINE, "")
    assert change_audits(entry) == []


def test_only_staff_who_book_in_this_clinic_can_change_an_entry(
    personas: Personas, follow_up: AppointmentType
) -> None:
    entry = wait(personas, reachable(personas, "Private"), follow_up)
    data = form_data(appointment_type=follow_up.pk, priority="1")

    nurse = login_client(Client(), personas.nurse)
    outsider = login_client(Client(), personas.outsider)

    assert nurse.get(change_url(entry)).status_code == 403
    assert nurse.post(change_url(entry), data).status_code == 403
    assert outsider.get(change_url(entry)).status_code == 404
    refused = outsider.post(change_url(entry), data)
    assert refused.status_code == 404
    assert b"Private" not in refused.content
    entry.refresh_from_db()
    assert entry.priority == WaitlistPriority.ROUTINE


# --- Offers out for a changed entry -------------------------------------------------------------


@pytest.fixture
def elsewhere(personas: Personas) -> tuple[Provider, Location]:
    location = Location.objects.create(clinic=personas.clinic, name="Southside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ravi", family_name="Das", specialty="Family"
    )
    provider.locations.add(location)
    return provider, location


NO_LONGER_FITS: dict[str, Callable[[Schedule, Provider, Location, AppointmentType], Any]] = {
    "ends before the offered day": lambda s, p, loc, t: {"latest_date": dt.date(2026, 11, 23)},
    "starts after the offered day": lambda s, p, loc, t: {"earliest_date": dt.date(2026, 11, 25)},
    "other weekdays": lambda s, p, loc, t: {"weekdays": ["0", "2"]},
    "afternoons only": lambda s, p, loc, t: {"time_of_day": "afternoon"},
    "another provider": lambda s, p, loc, t: {"providers": [p]},
    "another location": lambda s, p, loc, t: {"location": loc},
    "another type of visit": lambda s, p, loc, t: {"appointment_type": t},
}
STILL_FITS: dict[str, Callable[[Schedule, Provider, Location, AppointmentType], Any]] = {
    "priority and note": lambda s, p, loc, t: {"priority": WaitlistPriority.URGENT, "note": "x"},
    "narrowed around the offer": lambda s, p, loc, t: {
        "earliest_date": dt.date(2026, 11, 24),
        "latest_date": dt.date(2026, 11, 24),
        "weekdays": ["1"],
        "time_of_day": "morning",
        "providers": [s.provider, p],
        "location": s.location,
    },
}


@pytest.mark.parametrize("change", list(NO_LONGER_FITS), ids=list(NO_LONGER_FITS))
def test_an_offer_that_no_longer_fits_the_changed_entry_is_withdrawn_and_goes_to_the_next(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    freed: Appointment,
    elsewhere: tuple[Provider, Location],
    django_capture_on_commit_callbacks: OnCommit,
    change: str,
) -> None:
    other_type = AppointmentType.objects.create(
        clinic=personas.clinic, name="Annual check-up", duration_minutes=30
    )
    changing = wait(personas, reachable(personas, "Changing"), follow_up)
    nxt = wait(personas, reachable(personas, "Next"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    assert offer_of(changing).status == WaitlistOfferStatus.OFFERED
    assert not WaitlistOffer.objects.filter(entry=nxt).exists()
    changes = NO_LONGER_FITS[change](schedule, *elsewhere, other_type)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = waitlist_entry_change(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            entry=changing,
            request=request_of(changing, **changes),
        )

    withdrawn_offer = offer_of(changing)
    assert [o.pk for o in withdrawn] == [withdrawn_offer.pk]
    assert withdrawn_offer.status == WaitlistOfferStatus.WITHDRAWN
    assert withdrawn_offer.responded_at == NOW
    handed_on = offer_of(nxt)
    assert handed_on.status == WaitlistOfferStatus.OFFERED
    assert handed_on.start == freed.start
    (audit,) = change_audits(changing)
    assert audit.detail["withdrawn"] == [withdrawn_offer.pk]
    late = Client().post(link_of(changing), {"answer": "accept"})
    assert late.status_code == 410
    assert b"changed or closed by the clinic" in late.content
    assert not Appointment.objects.filter(patient=changing.patient).exists()


@pytest.mark.parametrize("change", list(STILL_FITS), ids=list(STILL_FITS))
def test_an_offer_that_still_fits_the_changed_entry_stays_open(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    freed: Appointment,
    elsewhere: tuple[Provider, Location],
    django_capture_on_commit_callbacks: OnCommit,
    change: str,
) -> None:
    changing = wait(personas, reachable(personas, "Changing"), follow_up)
    nxt = wait(personas, reachable(personas, "Next"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    changes = STILL_FITS[change](schedule, *elsewhere, follow_up)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = waitlist_entry_change(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            entry=changing,
            request=request_of(changing, **changes),
        )

    assert withdrawn == []
    assert offer_of(changing).status == WaitlistOfferStatus.OFFERED
    assert not WaitlistOffer.objects.filter(entry=nxt).exists()
    accepted = Client().post(link_of(changing), {"answer": "accept"})
    assert b"It is yours" in accepted.content
    assert Appointment.objects.get(patient=changing.patient).start == freed.start


def test_the_change_page_says_how_many_offers_were_withdrawn(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    changing = wait(personas, reachable(personas, "Changing"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    client = login_client(Client(), personas.front_desk)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            change_url(changing),
            form_data(appointment_type=follow_up.pk, time_of_day="afternoon"),
            follow=True,
        )

    assert b"1 open offer(s) no longer fit and were withdrawn" in response.content
    assert offer_of(changing).status == WaitlistOfferStatus.WITHDRAWN


def test_changing_an_entry_locks_its_offers_before_the_entry_as_accepting_does(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    entry = wait(personas, reachable(personas, "Changing"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    change = request_of(entry, priority=WaitlistPriority.HIGH)

    with CaptureQueriesContext(connection) as queries:
        waitlist_entry_change(
            context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry, request=change
        )

    assert_offers_locked_before_the_entry(queries)
    assert offer_of(entry).status == WaitlistOfferStatus.OFFERED


def test_changing_an_entry_while_its_patient_accepts_never_deadlocks(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time, so it cannot deadlock")
    freed, entry, offer = offered_for_a_race(personas, schedule, follow_up, clinic_tz)
    change = request_of(entry, time_of_day="afternoon")

    def change_entry() -> str:
        waitlist_entry_change(
            context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry, request=change
        )
        return "changed"

    results = race_with_acceptance(monkeypatch, offer, "change", change_entry)

    assert results == {
        "accept": "accepted",
        "change": waitlist_entry_closed_message(WaitlistEntry(status=WaitlistStatus.BOOKED)),
    }
    entry.refresh_from_db()
    assert (entry.status, entry.time_of_day) == (WaitlistStatus.BOOKED, "")
    assert Appointment.objects.get(patient=entry.patient).start == freed.start


# --- The offer emails ---------------------------------------------------------------------------


def parts(message: Any) -> tuple[str, str]:
    """The text and HTML parts as the patient's mail program shows them (lines end in LF)."""
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    return text, html


def test_offer_and_gone_emails_arrive_with_text_and_html_parts_naming_no_visit_type(
    personas: Personas,
    schedule: Schedule,
    clinic_tz: zoneinfo.ZoneInfo,
    smtp_server: Mailbox,
    django_capture_on_commit_callbacks: OnCommit,
    settings: Any,
) -> None:
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    Location.objects.filter(pk=schedule.location_id).update(address="12 River Road & Main")
    sensitive = AppointmentType.objects.create(
        clinic=personas.clinic, name="HIV counselling", duration_minutes=30
    )
    leaver = make_patient(personas.clinic, given_name="Leaver")
    freed = book(personas, leaver, schedule, sensitive, at(clinic_tz, 24, 9))
    taker = wait(personas, reachable(personas, "Taker"), sensitive, priority=1)
    marked_up: Patient = make_patient(
        personas.clinic,
        given_name='<b>Zoë</b> "Z" & co',
        family_name="Waiting",
        email="zoe@example.org",
        consent_email=True,
    )
    loser = wait(personas, marked_up, sensitive)

    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    offers = smtp_server.messages[:]
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(link_of(taker), {"answer": "accept"})

    assert smtp_server.recipients == [
        ["taker@example.org"],
        ["zoe@example.org"],
        ["zoe@example.org"],
    ]
    assert [m["Subject"] for m in smtp_server.messages] == [
        "An earlier appointment is free",
        "An earlier appointment is free",
        "That time has been taken",
    ]
    offer_text, offer_html = parts(offers[1])
    link = f"https://clinic.example{link_of(loser)}"
    assert f"open this link before Monday 23 November 2026 at 10:00 AM:\n{link}" in offer_text
    assert '<b>Zoë</b> "Z" & co' in offer_text  # plain text is not HTML: nothing to escape
    assert f'<a href="{link}">' in offer_html
    for part in (offer_text, offer_html):
        assert "Tuesday 24 November 2026 at 9:00 AM" in part
        assert "Northside, 12 River Road" in part
    assert "Northside, 12 River Road &amp; Main" in offer_html
    gone_text, gone_html = parts(smtp_server.messages[2])
    assert "The time on Tuesday 24 November 2026 at 9:00 AM we offered you has been taken" in (
        gone_text
    )
    assert "Tuesday 24 November 2026 at 9:00 AM</strong> we offered you has been taken" in (
        gone_html
    )
    for html in (offer_html, gone_html):
        assert "Hello &lt;b&gt;Zoë&lt;/b&gt; &quot;Z&quot; &amp; co," in html
        assert "<b>Zoë" not in html
    for message in smtp_server.messages:
        for part in parts(message):
            words = re.sub(r'https://[^\s"<]+', "", part)  # a link's signature is random
            for secret in ("HIV", "counselling", "Mei", "Lee", "Family medicine"):
                assert secret not in words
