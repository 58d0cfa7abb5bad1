"""After staff add a patient to the waitlist or change an entry, the waitlist page shows up to
three times that fit the entry and are free right now, each booked with one click."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Schedule,
    ScheduleTemplate,
    WaitlistEntry,
    WaitlistStatus,
)
from frontdesk.scheduling.tests.waitlist_support import at, book, change_url, form_data, wait

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")

HEADING = "Free right now for"
MONDAY_9 = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York


def add_url(patient: Patient) -> str:
    return reverse("scheduling:waitlist_add", args=[patient.pk])


def offered_times(html: str) -> list[str]:
    """The times on the 'free right now' buttons, as the officer reads them."""
    return re.findall(r'class="button slot">(?:Book|Move to) ([^<]+)</button>', html)


def find_audits(patient: Patient) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.VIEW, object_type="find_time", patient_ids=[patient.pk]
        )
    )


@pytest.fixture
def southside(personas: Personas) -> Schedule:
    """A second provider, Ana Ortiz, at a second location, with the same weekday hours."""
    location = Location.objects.create(clinic=personas.clinic, name="Southside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name="Ortiz", credentials="MD"
    )
    provider.locations.add(location)
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start_time=dt.time(9, 0),
        end_time=dt.time(17, 0),
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=15,
        overbook_cap=1,
    )
    return schedule


def test_adding_a_patient_shows_the_next_three_free_times_and_books_nothing(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    patient: Patient,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    book(
        personas,
        make_patient(personas.clinic, given_name="Early"),
        schedule,
        follow_up,
        at(clinic_tz, 23, 9),
    )
    client = login_client(Client(), personas.front_desk)

    response = client.post(add_url(patient), form_data(appointment_type=follow_up.pk), follow=True)

    assert response.redirect_chain[-1][0] == reverse("scheduling:waitlist")
    html = response.content.decode()
    assert f"{HEADING} {patient.given_name} {patient.family_name}" in html
    assert offered_times(html) == [
        "Mon Nov 23, 09:30 · Mei Lee, MD · Northside",
        "Mon Nov 23, 09:45 · Mei Lee, MD · Northside",
        "Mon Nov 23, 10:00 · Mei Lee, MD · Northside",
    ]
    assert not Appointment.objects.filter(patient=patient).exists()
    assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.WAITING
    assert [e.detail["found"] for e in find_audits(patient)] == [3]
    again = client.get(reverse("scheduling:waitlist")).content.decode()
    assert HEADING not in again  # shown once, after the change it answers
    assert len(find_audits(patient)) == 1


def test_the_times_shown_fit_the_entry_s_provider_location_days_and_time_of_day(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    southside: Schedule,
    patient: Patient,
) -> None:
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        add_url(patient),
        form_data(
            appointment_type=follow_up.pk,
            providers=[southside.provider_id],
            location=southside.location_id,
            earliest_date="11/24/2026",
            weekdays=["2"],  # Wednesdays
            time_of_day="afternoon",
        ),
        follow=True,
    )

    assert offered_times(response.content.decode()) == [
        "Wed Nov 25, 12:00 · Ana Ortiz, MD · Southside",
        "Wed Nov 25, 12:15 · Ana Ortiz, MD · Southside",
        "Wed Nov 25, 12:30 · Ana Ortiz, MD · Southside",
    ]


def test_times_that_clash_with_the_patient_s_other_visits_are_left_out(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    southside: Schedule,
    patient: Patient,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    book(personas, patient, southside, follow_up, at(clinic_tz, 23, 9))  # another kind of visit
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        add_url(patient),
        form_data(appointment_type=follow_up.pk, providers=[schedule.provider_id]),
        follow=True,
    )

    assert offered_times(response.content.decode()) == [
        "Mon Nov 23, 09:30 · Mei Lee, MD · Northside",
        "Mon Nov 23, 09:45 · Mei Lee, MD · Northside",
        "Mon Nov 23, 10:00 · Mei Lee, MD · Northside",
    ]


def test_nothing_extra_is_said_when_no_time_fits_right_now(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule, patient: Patient
) -> None:
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        add_url(patient),
        form_data(appointment_type=follow_up.pk, weekdays=["5", "6"]),  # weekends: closed
        follow=True,
    )

    html = response.content.decode()
    assert "is on the waitlist." in html
    assert HEADING not in html
    assert offered_times(html) == []
    assert [e.detail["found"] for e in find_audits(patient)] == [0]


def test_one_click_books_the_time_and_closes_the_entry(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule, patient: Patient
) -> None:
    client = login_client(Client(), personas.front_desk)
    page = client.post(add_url(patient), form_data(appointment_type=follow_up.pk), follow=True)
    first = page.content.decode().split(f'action="{reverse("scheduling:waitlist_book")}"', 1)[1]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', first.split("</form>", 1)[0]))
    fields.pop("csrfmiddlewaretoken")

    response = client.post(reverse("scheduling:waitlist_book"), fields)

    booked = Appointment.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment", args=[booked.pk])
    assert (booked.schedule_id, booked.start) == (schedule.pk, MONDAY_9)
    assert booked.appointment_type_id == follow_up.pk
    assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.BOOKED


def test_a_time_taken_meanwhile_is_refused_and_the_next_free_times_are_shown(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    patient: Patient,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    client = login_client(Client(), personas.front_desk)
    client.post(add_url(patient), form_data(appointment_type=follow_up.pk), follow=True)
    entry = WaitlistEntry.objects.get(patient=patient)
    book(
        personas,
        make_patient(personas.clinic, given_name="Quicker"),
        schedule,
        follow_up,
        at(clinic_tz, 23, 9),
    )

    response = client.post(
        reverse("scheduling:waitlist_book"),
        {
            "entry": entry.pk,
            "schedule": schedule.pk,
            "start": MONDAY_9.isoformat(),
            "end": (MONDAY_9 + dt.timedelta(minutes=30)).isoformat(),
            "at": MONDAY_9.isoformat(),
            "back": "free-now",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("scheduling:waitlist")
    html = response.content.decode()
    assert offered_times(html)[0] == "Mon Nov 23, 09:30 · Mei Lee, MD · Northside"
    assert not Appointment.objects.filter(patient=patient).exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_with_a_kept_booking_only_earlier_times_are_shown_and_one_click_moves_it(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    patient: Patient,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    kept = book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 10))
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        add_url(patient),
        form_data(appointment_type=follow_up.pk, appointment=kept.pk, earliest_date="11/24/2026"),
        follow=True,
    )

    html = response.content.decode()
    assert "Move to Tue Nov 24, 09:00" in html
    assert offered_times(html) == [
        "Tue Nov 24, 09:00 · Mei Lee, MD · Northside",
        "Tue Nov 24, 09:15 · Mei Lee, MD · Northside",
        "Tue Nov 24, 09:30 · Mei Lee, MD · Northside",
    ]
    entry = WaitlistEntry.objects.get(patient=patient)
    moved = client.post(
        reverse("scheduling:waitlist_book"),
        {
            "entry": entry.pk,
            "schedule": schedule.pk,
            "start": at(clinic_tz, 24, 9).isoformat(),
            "end": at(clinic_tz, 24, 9, 30).isoformat(),
            "at": at(clinic_tz, 24, 9).isoformat(),
            "back": "free-now",
        },
    )
    assert moved["Location"] == reverse("scheduling:appointment", args=[kept.pk])
    kept.refresh_from_db()
    assert kept.start == at(clinic_tz, 24, 9)
    assert kept.status == AppointmentStatus.BOOKED
    assert Appointment.objects.filter(patient=patient).count() == 1
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED


def test_a_kept_booking_with_nothing_earlier_free_shows_nothing_extra(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    patient: Patient,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    kept = book(personas, patient, schedule, follow_up, at(clinic_tz, 23, 9))
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        add_url(patient), form_data(appointment_type=follow_up.pk, appointment=kept.pk), follow=True
    )

    assert "is on the waitlist." in response.content.decode()
    assert HEADING not in response.content.decode()


def test_changing_an_entry_shows_the_times_that_fit_its_new_terms(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    southside: Schedule,
    patient: Patient,
) -> None:
    entry = wait(personas, patient, follow_up, providers=[schedule.provider])
    client = login_client(Client(), personas.front_desk)

    response = client.post(
        change_url(entry),
        form_data(
            appointment_type=follow_up.pk,
            providers=[southside.provider_id],
            weekdays=["3"],  # Thursdays
            time_of_day="morning",
        ),
        follow=True,
    )

    html = response.content.decode()
    assert "is changed." in html
    assert offered_times(html) == [
        "Thu Nov 26, 09:00 · Ana Ortiz, MD · Southside",
        "Thu Nov 26, 09:15 · Ana Ortiz, MD · Southside",
        "Thu Nov 26, 09:30 · Ana Ortiz, MD · Southside",
    ]
    assert f'name="entry" value="{entry.pk}"' in html
    assert len(find_audits(patient)) == 1


def test_an_entry_booked_before_the_page_opens_shows_nothing_extra(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule, patient: Patient
) -> None:
    client = login_client(Client(), personas.front_desk)
    client.post(add_url(patient), form_data(appointment_type=follow_up.pk))  # not followed
    WaitlistEntry.objects.filter(patient=patient).update(status=WaitlistStatus.REMOVED)

    html = client.get(reverse("scheduling:waitlist")).content.decode()

    assert HEADING not in html
    assert find_audits(patient) == []


# --- On the "wait for an earlier time" form, before saving --------------------------------------


def first_button_form(html: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the first 'free right now' button's form."""
    panel = html.split('id="free-now-heading"', 1)[1]
    form = panel.split("<form ", 1)[1].split("</form>", 1)[0]
    action = re.search(r'action="([^"]+)"', form)
    assert action is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrfmiddlewaretoken")
    return action.group(1), fields


def test_the_form_shows_what_is_free_now_for_the_typed_wishes_and_saves_nothing(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule, patient: Patient
) -> None:
    client = login_client(Client(), personas.front_desk)

    page = client.post(
        add_url(patient),
        form_data(
            appointment_type=follow_up.pk, time_of_day="afternoon", note="call after 5", check="1"
        ),
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert offered_times(html) == [
        "Mon Nov 23, 12:00 · Mei Lee, MD · Northside",
        "Mon Nov 23, 12:15 · Mei Lee, MD · Northside",
        "Mon Nov 23, 12:30 · Mei Lee, MD · Northside",
    ]
    assert 'value="call after 5"' in html  # nothing typed is lost
    assert not WaitlistEntry.objects.filter(patient=patient).exists()
    assert not Appointment.objects.filter(patient=patient).exists()
    assert [e.detail for e in find_audits(patient)] == [{"waitlist_form": True, "found": 3}]

    action, fields = first_button_form(html)
    assert action == reverse("scheduling:book", args=[patient.pk])
    booked = client.post(action, fields)

    appointment = Appointment.objects.get(patient=patient)
    assert booked["Location"] == reverse("scheduling:appointment", args=[appointment.pk])
    assert appointment.start == MONDAY_9 + dt.timedelta(hours=3)
    assert appointment.appointment_type_id == follow_up.pk
    assert not WaitlistEntry.objects.filter(patient=patient).exists()


def test_the_form_offers_to_move_a_kept_booking_to_an_earlier_free_time(
    personas: Personas,
    follow_up: AppointmentType,
    schedule: Schedule,
    patient: Patient,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    kept = book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 10))
    client = login_client(Client(), personas.front_desk)

    page = client.post(
        add_url(patient),
        form_data(
            appointment_type=follow_up.pk,
            appointment=kept.pk,
            earliest_date="11/24/2026",
            check="1",
        ),
    )

    html = page.content.decode()
    assert offered_times(html)[0] == "Tue Nov 24, 09:00 · Mei Lee, MD · Northside"
    assert "earlier than the kept appointment on Tuesday, November 24, 10:00" in html
    action, fields = first_button_form(html)
    assert action == reverse("scheduling:appointment_move", args=[kept.pk])
    client.post(action, fields)
    kept.refresh_from_db()
    assert kept.start == at(clinic_tz, 24, 9)
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_the_form_says_when_nothing_that_fits_is_free_now(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule, patient: Patient
) -> None:
    client = login_client(Client(), personas.front_desk)

    page = client.post(
        add_url(patient), form_data(appointment_type=follow_up.pk, weekdays=["6"], check="1")
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert HEADING not in html
    assert "No time that fits these wishes is free right now" in html
    assert not WaitlistEntry.objects.filter(patient=patient).exists()


def test_checking_with_a_mistake_explains_it_and_searches_nothing(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule, patient: Patient
) -> None:
    client = login_client(Client(), personas.front_desk)

    page = client.post(
        add_url(patient),
        form_data(appointment_type=follow_up.pk, latest_date="11/01/2026", check="1"),
    )

    assert page.status_code == 400
    html = page.content.decode()
    assert "The last day must be on or after the first day." in html
    assert HEADING not in html
    assert "No time that fits" not in html
    assert find_audits(patient) == []
