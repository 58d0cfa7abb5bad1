from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client
from icalendar import Calendar  # type: ignore[import-untyped, unused-ignore]

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling import calendar_feed, services
from frontdesk.scheduling.models import Appointment, AppointmentStatus, CancelledBy, Schedule

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def someone(personas: Personas) -> Patient:
    return make_patient(
        personas.clinic,
        given_name="Philippa",
        family_name="Quarrington",
        birth_date=dt.date(1957, 3, 14),
        phone="+12025550199",
    )


def _book(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
) -> Appointment:
    return services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        schedule=schedule,
        appointment_type=kind,
        start=start,
    )


def _feed(token: str) -> Calendar:
    response = Client().get("/schedule/calendar.ics", {"token": token})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_the_feed_parses_and_has_one_event_per_active_appointment_in_utc(
    personas: Personas,
    someone: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    kept = _book(
        personas, someone, schedule, follow_up, dt.datetime(2026, 11, 24, 9, 30, tzinfo=clinic_tz)
    )
    gone = _book(
        personas, someone, schedule, follow_up, dt.datetime(2026, 11, 25, 10, 0, tzinfo=clinic_tz)
    )
    services.appointment_cancel(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=gone,
        cancelled_by=CancelledBy.PATIENT,
        reason="travelling",
    )
    far = NOW + dt.timedelta(days=90)
    Appointment.objects.create(
        clinic=personas.clinic,
        patient=someone,
        schedule=schedule,
        provider=schedule.provider,
        appointment_type=follow_up,
        start=far,
        end=far + dt.timedelta(minutes=30),
        busy_start=far,
        busy_end=far + dt.timedelta(minutes=30),
        created_at=NOW,
        updated_at=NOW,
    )

    calendar = _feed(calendar_feed.feed_token(schedule.provider))

    events = calendar.walk("VEVENT")
    assert len(events) == 1
    (event,) = events
    assert str(event["UID"]) == f"appointment-{kept.pk}@frontdesk.clinic-{personas.clinic.pk}"
    assert event.decoded("DTSTART") == dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
    assert event["DTSTART"].to_ical() == b"20261124T143000Z"
    assert str(event["SUMMARY"]) == "Appointment"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_events_are_titled_with_the_clinics_neutral_title_never_the_type_of_visit(
    personas: Personas,
    someone: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    # The type of visit can reveal a diagnosis; the reminders leave it out for that reason.
    follow_up.name = "HIV follow-up"
    follow_up.save(update_fields=["name"])
    _book(personas, someone, schedule, follow_up, dt.datetime(2026, 11, 24, 9, 0, tzinfo=clinic_tz))
    personas.clinic.calendar_event_title = "Clinic visit"
    personas.clinic.save(update_fields=["calendar_event_title"])
    response = Client().get(
        "/schedule/calendar.ics", {"token": calendar_feed.feed_token(schedule.provider)}
    )
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Clinic visit"
    assert b"HIV" not in response.content


def test_an_event_keeps_its_uid_when_the_appointment_moves_and_pending_ones_are_tentative(
    personas: Personas,
    someone: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    appointment = _book(
        personas, someone, schedule, follow_up, dt.datetime(2026, 11, 24, 9, 0, tzinfo=clinic_tz)
    )
    token = calendar_feed.feed_token(schedule.provider)
    (before,) = _feed(token).walk("VEVENT")
    services.appointment_reschedule(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        schedule=schedule,
        start=dt.datetime(2026, 11, 26, 11, 0, tzinfo=clinic_tz),
        reason="patient asked",
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.PENDING)
    (after,) = _feed(token).walk("VEVENT")
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("DTSTART") == dt.datetime(2026, 11, 26, 16, 0, tzinfo=dt.UTC)
    assert str(after["STATUS"]) == "TENTATIVE"


def test_the_feed_holds_no_patient_name_birth_date_phone_or_note(
    personas: Personas,
    someone: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    appointment = _book(
        personas, someone, schedule, follow_up, dt.datetime(2026, 11, 24, 9, 0, tzinfo=clinic_tz)
    )
    Appointment.objects.filter(pk=appointment.pk).update(note="Quarrington asked about results")
    body = Client().get(
        "/schedule/calendar.ics", {"token": calendar_feed.feed_token(schedule.provider)}
    )
    text = body.content.decode()
    assert "BEGIN:VEVENT" in text
    for secret in (
        "Quarrington",
        "Philippa",
        "1957",
        "19570314",
        "03/14",
        "5550199",
        someone.mrn,
        "results",
    ):
        assert secret not in text


def test_a_tampered_or_foreign_token_gets_a_polite_404(
    personas: Personas, schedule: Schedule
) -> None:
    token = calendar_feed.feed_token(schedule.provider)
    value, _, signature = token.rpartition(".")
    other_provider = f"{schedule.provider.pk + 1}-1.{signature}"
    flipped = f"{value}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    other_salt = signing.Signer(salt="frontdesk.messaging", sep=".").sign(value)
    for bad in (flipped, other_provider, other_salt, "", "nonsense", token + "x"):
        response = Client().get("/schedule/calendar.ics", {"token": bad})
        assert response.status_code == 404, bad
        assert "This calendar link does not work" in response.content.decode()


def test_a_rotated_link_stops_working_and_the_new_one_works(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    provider = schedule.provider
    old = calendar_feed.feed_token(provider)
    admin = client_for(personas.admin)
    page = admin.get(f"/schedule/calendar-feeds/{provider.pk}/").content.decode()
    assert old in page and "Replace the calendar link" in page

    response = admin.post(f"/schedule/calendar-feeds/{provider.pk}/rotate/")
    assert response.status_code == 302

    provider.refresh_from_db()
    assert provider.feed_version == 2
    assert Client().get("/schedule/calendar.ics", {"token": old}).status_code == 404
    fresh = admin.get(response["Location"]).content.decode()
    assert "The old link no longer works" in fresh
    new_url = next(
        line.split('value="', 1)[1].split('"', 1)[0]
        for line in fresh.splitlines()
        if 'id="feed-url"' in line
    )
    (new_token,) = parse_qs(urlsplit(new_url.replace("&amp;", "&")).query)["token"]
    assert new_token != old
    assert Client().get("/schedule/calendar.ics", {"token": new_token}).status_code == 200
    event = AuditEvent.objects.get(object_type="calendar_feed")
    assert event.object_id == str(provider.pk) and event.actor_username == "adam"


def test_only_the_provider_themselves_or_an_administrator_sees_the_feed_link(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    provider = schedule.provider
    url = f"/schedule/calendar-feeds/{provider.pk}/"
    token = calendar_feed.feed_token(provider)
    assert client_for(personas.physician).get(url).status_code == 404
    Provider.objects.filter(pk=provider.pk).update(staff_user=personas.physician)
    own = client_for(personas.physician).get(url)
    assert own.status_code == 200 and token in own.content.decode()
    assert "Replace the calendar link" not in own.content.decode()
    assert client_for(personas.physician).post(f"{url}rotate/").status_code == 403
    assert client_for(personas.nurse).get(url).status_code == 404
    assert client_for(personas.front_desk).get(url).status_code == 403
    assert client_for(personas.outsider).get(url).status_code == 403
    listing = client_for(personas.physician).get("/schedule/calendar-feeds/")
    assert listing["Location"] == url


def test_the_week_view_links_a_provider_to_their_own_feed(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    provider = schedule.provider
    link = f"/schedule/calendar-feeds/{provider.pk}/"
    week = f"/schedule/week/?provider={provider.pk}"
    assert link not in client_for(personas.physician).get(week).content.decode()
    Provider.objects.filter(pk=provider.pk).update(staff_user=personas.physician)
    assert link in client_for(personas.physician).get(week).content.decode()


def test_an_administrator_links_a_provider_to_their_account_and_the_link_is_audited(
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    provider = schedule.provider
    admin = client_for(personas.admin)
    url = f"/schedule/calendar-feeds/{provider.pk}/account/"
    assert "Calendar feed" not in client_for(personas.front_desk).get("/").content.decode()

    response = admin.post(url, {"staff_user": str(personas.physician.pk)})
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.staff_user == personas.physician
    event = AuditEvent.objects.get(object_type="provider_account")
    assert event.detail == {"from": None, "to": personas.physician.pk}
    physician = client_for(personas.physician)
    assert "Calendar feed" in physician.get("/").content.decode()
    assert physician.get("/schedule/calendar-feeds/")["Location"] == (
        f"/schedule/calendar-feeds/{provider.pk}/"
    )

    second = Provider.objects.create(
        clinic=personas.clinic, given_name="Ravi", family_name="Shah", specialty="Paediatrics"
    )
    refused = admin.post(
        f"/schedule/calendar-feeds/{second.pk}/account/", {"staff_user": personas.physician.pk}
    )
    assert refused.status_code == 400
    assert "is already linked to Mei Lee, MD" in refused.content.decode()
    for wrong in (str(personas.front_desk.pk), str(personas.outsider.pk), "abc"):
        page = admin.post(f"/schedule/calendar-feeds/{second.pk}/account/", {"staff_user": wrong})
        assert page.status_code == 400
        assert 'aria-invalid="true"' in page.content.decode()
    second.refresh_from_db()
    assert second.staff_user is None

    assert admin.post(url, {"staff_user": ""}).status_code == 302
    provider.refresh_from_db()
    assert provider.staff_user is None
    assert (
        client_for(personas.physician).get(f"/schedule/calendar-feeds/{provider.pk}/").status_code
        == 404
    )
    assert physician.post(url, {"staff_user": ""}).status_code == 403
