from __future__ import annotations

import datetime as dt
import re
import threading
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling import availability, series, services
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    CancelledBy,
    ClinicHoliday,
    Schedule,
    SeriesVisit,
    SeriesVisitStatus,
)

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _plan(schedule: Schedule, kind: AppointmentType, **changes: Any) -> dict[str, Any]:
    """The series form as an officer fills it: Tuesdays at 10:00 from Dec 1, eight visits."""
    data: dict[str, Any] = {
        "appointment_type": kind.pk,
        "provider": schedule.provider_id,
        "location": schedule.location_id,
        "first_date": "2026-12-01",
        "first_time": "10:00",
        "interval": "1",
        "count": "8",
        "until": "",
    }
    data.update(changes)
    return data


def _book_other(
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


def _second_schedule(personas: Personas, schedule: Schedule) -> Schedule:
    place = Location.objects.create(clinic=personas.clinic, name="Southside")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ana", family_name="Ruiz", specialty="Dermatology"
    )
    other = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=place)
    for template in schedule.templates.all():
        template.pk = None
        template.schedule = other
        template.save()
    return other


def _local_starts(appointments: Any, zone: zoneinfo.ZoneInfo) -> list[str]:
    return [f"{a.start.astimezone(zone):%Y-%m-%d %H:%M}" for a in appointments]


def test_eight_weekly_visits_are_previewed_then_booked_as_one_series(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    url = f"/schedule/patients/{patient.pk}/series/"
    assert url in client.get(f"/patients/{patient.pk}/").content.decode()

    preview = client.get(url, _plan(schedule, follow_up))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "8 visits: 8 free" in html and "Book the 8 free visits" in html
    assert "Tue Dec 1, 2026 10:00" in html and "Tue Jan 19, 2027 10:00" in html
    assert not Appointment.objects.exists()  # a preview books nothing
    assert AuditEvent.objects.filter(
        object_type="appointment_series_preview", patient_ids=[patient.pk]
    ).exists()

    response = client.post(
        f"/schedule/patients/{patient.pk}/series/book/", _plan(schedule, follow_up)
    )
    made = AppointmentSeries.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/schedule/series/{made.pk}/"
    assert made.patient_id == patient.pk
    assert made.rrule == "DTSTART:20261201T100000\nRRULE:FREQ=WEEKLY;COUNT=8"
    assert (made.schedule_id, made.appointment_type_id) == (schedule.pk, follow_up.pk)
    assert (made.count, made.until, made.created_by_id) == (8, None, personas.front_desk.pk)
    booked = Appointment.objects.filter(series=made).order_by("start")
    planned = [dt.datetime.combine(dt.date(2026, 12, 1), dt.time(10), clinic_tz)]
    planned += [planned[0] + dt.timedelta(weeks=n) for n in range(1, 8)]
    assert _local_starts(booked, clinic_tz) == [f"{p:%Y-%m-%d %H:%M}" for p in planned]
    assert {a.status for a in booked} == {AppointmentStatus.BOOKED}
    # Each planned visit is its own row, holding its appointment; the note is only for people.
    visits = list(made.visits.order_by("position"))
    assert [(v.position, v.planned_start, v.status) for v in visits] == [
        (n, p, SeriesVisitStatus.BOOKED) for n, p in enumerate(planned, start=1)
    ]
    assert [v.appointment_id for v in visits] == [a.pk for a in booked]
    assert [a.note for a in booked][:2] == ["Series visit 1 of 8", "Series visit 2 of 8"]
    created = AuditEvent.objects.get(object_type="appointment_series", action="create")
    assert created.patient_ids == [patient.pk]
    assert AuditEvent.objects.filter(object_type="appointment", action="create").count() == 8

    page = client.get(response["Location"]).content.decode()
    assert "Booked 8 of 8 visits." in page
    assert page.count("status-booked") == 8 and "Conflict" not in page


def test_visits_on_a_holiday_taken_or_clashing_with_the_patient_are_conflicts_with_options(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    ClinicHoliday.objects.create(
        clinic=personas.clinic, date=dt.date(2026, 12, 29), name="Winter closure"
    )
    _book_other(
        personas,
        make_patient(personas.clinic, given_name="Quick"),
        schedule,
        follow_up,
        dt.datetime(2026, 12, 15, 10, tzinfo=clinic_tz),
    )
    _book_other(
        personas,
        patient,
        _second_schedule(personas, schedule),
        follow_up,
        dt.datetime(2026, 12, 8, 10, 15, tzinfo=clinic_tz),
    )
    client = client_for(personas.front_desk)
    preview = client.get(f"/schedule/patients/{patient.pk}/series/", _plan(schedule, follow_up))
    html = preview.content.decode()
    assert "8 visits: 5 free" in html
    assert "The clinic is closed for Winter closure" in html
    assert "Dr Lee already has an appointment then" in html
    assert "The patient already has Follow-up visit with Ana Ruiz at Tue Dec 8 10:15" in html

    client.post(f"/schedule/patients/{patient.pk}/series/book/", _plan(schedule, follow_up))
    made = AppointmentSeries.objects.get()
    assert Appointment.objects.filter(series=made).count() == 5
    outcome = AuditEvent.objects.get(object_type="appointment_series", action="create")
    assert [c["visit"] for c in outcome.detail["conflicts"]] == [2, 3, 5]
    conflicts = made.visits.filter(status=SeriesVisitStatus.CONFLICT).order_by("position")
    assert [(v.position, v.appointment_id, v.conflict_reason) for v in conflicts] == [
        (2, None, "The patient already has Follow-up visit with Ana Ruiz at Tue Dec 8 10:15"),
        (3, None, "Dr Lee already has an appointment then"),
        (5, None, "The clinic is closed for Winter closure"),
    ]

    page = series.series_page(context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk)
    open_rows = {row.number or 0: row for row in page.unresolved}
    assert sorted(open_rows) == [2, 3, 5]
    for row in open_rows.values():
        assert row.problem and row.options, row
        assert row.planned is not None
        assert all(abs(o.start - row.planned) <= dt.timedelta(days=3) for o in row.options)
        assert all(o.start != row.planned for o in row.options)
    # The nearest free time of day first: the day before the holiday at the planned hour.
    assert open_rows[5].options[0].start == dt.datetime(2026, 12, 28, 10, tzinfo=clinic_tz)
    # The patient's other visit is never offered as an option.
    assert all(
        o.start.astimezone(clinic_tz).date() != dt.date(2026, 12, 8)
        or not dt.time(9, 45) < o.start.astimezone(clinic_tz).time() < dt.time(10, 45)
        for o in open_rows[2].options
    )
    html = client.get(f"/schedule/series/{made.pk}/").content.decode()
    assert html.count("Skip visit") == 3 and "Mon Dec 28, 10:00" in html


def test_picking_an_option_books_the_visit_in_the_series_and_skipping_closes_it(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    ClinicHoliday.objects.create(
        clinic=personas.clinic, date=dt.date(2026, 12, 8), name="Staff day"
    )
    ClinicHoliday.objects.create(clinic=personas.clinic, date=dt.date(2026, 12, 15), name="Audit")
    client = client_for(personas.front_desk)
    client.post(
        f"/schedule/patients/{patient.pk}/series/book/", _plan(schedule, follow_up, count="4")
    )
    made = AppointmentSeries.objects.get()
    page = series.series_page(context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk)
    option = page.unresolved[0].options[0]

    resolve = f"/schedule/series/{made.pk}/resolve/"
    response = client.post(resolve, {"visit": "2", "start": option.start.isoformat()}, follow=True)
    assert "Visit 2 booked" in response.content.decode()
    moved = Appointment.objects.get(series=made, start=option.start)
    assert moved.status == AppointmentStatus.BOOKED
    assert moved.note == "Series visit 2 of 4, in place of Tue Dec 8 10:00"
    second = made.visits.get(position=2)
    assert (second.status, second.appointment_id) == (SeriesVisitStatus.BOOKED, moved.pk)
    assert second.planned_start == dt.datetime(2026, 12, 8, 10, tzinfo=clinic_tz)
    assert AuditEvent.objects.filter(
        object_type="appointment_series", action="update", patient_ids=[patient.pk]
    ).exists()

    again = client.post(resolve, {"visit": "2", "start": option.start.isoformat()}, follow=True)
    assert "Visit 2 was not booked. Visit 2 has already been dealt with." in again.content.decode()
    assert Appointment.objects.filter(series=made).count() == 3

    far = dt.datetime(2027, 2, 2, 10, tzinfo=clinic_tz).isoformat()
    refused = client.post(resolve, {"visit": "3", "start": far}, follow=True).content.decode()
    assert "Pick one of the times offered near the planned visit." in refused
    assert (
        "Pick one of the times offered near the planned visit."
        in client.post(
            resolve, {"visit": "3", "start": "9999-12-31T10:00:00+00:00"}, follow=True
        ).content.decode()
    )

    client.post(resolve, {"visit": "3", "skip": "yes", "reason": "patient away"})
    skipped = made.visits.get(position=3)
    assert (skipped.status, skipped.skip_reason) == (SeriesVisitStatus.SKIPPED, "patient away")
    # A skipped visit books nothing and cancels nothing: it never held the provider's time.
    assert skipped.appointment_id is None
    assert Appointment.objects.filter(series=made).count() == 3
    assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()
    assert (
        "Visit 3 was not booked. Visit 3 has already been dealt with."
        in client.post(
            resolve, {"visit": "3", "start": option.start.isoformat()}, follow=True
        ).content.decode()
    )

    page = series.series_page(context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk)
    assert not page.unresolved
    assert [row.state for row in page.rows] == ["booked", "moved", "skipped", "booked"]
    html = client.get(f"/schedule/series/{made.pk}/").content.decode()
    assert 'status-cancelled">Skipped</span> patient away' in html
    assert "Booked at another time" in html and "Skip visit" not in html


def test_a_visit_taken_between_preview_and_booking_is_reported_as_a_conflict(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    plan = _plan(schedule, follow_up, count="3")
    assert (
        "3 visits: 3 free"
        in client.get(f"/schedule/patients/{patient.pk}/series/", plan).content.decode()
    )
    _book_other(
        personas,
        make_patient(personas.clinic, given_name="Quick"),
        schedule,
        follow_up,
        dt.datetime(2026, 12, 8, 10, tzinfo=clinic_tz),
    )
    response = client.post(f"/schedule/patients/{patient.pk}/series/book/", plan, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Booked 2 of 3 visits. 1 could not be booked as planned" in html
    assert "Dr Lee already has an appointment then" in html
    made = AppointmentSeries.objects.get()
    assert [
        row.number
        for row in series.series_page(
            context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk
        ).unresolved
    ] == [2]


def test_a_visit_lost_to_the_database_race_becomes_a_conflict_not_an_error(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The availability check passes (as it would for a writer that read before the other
    # committed), and the database's no-double-booking rule refuses the insert.
    taken = dt.datetime(2026, 12, 8, 10, tzinfo=clinic_tz)
    _book_other(
        personas, make_patient(personas.clinic, given_name="Fast"), schedule, follow_up, taken
    )
    monkeypatch.setattr(availability, "slot_is_bookable", lambda **kwargs: None)
    form_plan = series.series_plan(
        schedule=schedule,
        appointment_type=follow_up,
        first_date=dt.date(2026, 12, 1),
        first_time=dt.time(10),
        interval=1,
        weekdays=frozenset(),
        count=3,
        until=None,
        now=NOW,
    )
    outcome = series.series_book(
        context=SYSTEM_CONTEXT, user=personas.front_desk, patient=patient, plan=form_plan
    )
    assert len(outcome.booked) == 2
    assert [(o.number, o.problem) for o in outcome.conflicts] == [
        (2, "That time was just taken by another booking")
    ]


def test_a_series_across_the_daylight_saving_change_keeps_the_local_time(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    plan = _plan(schedule, follow_up, first_date="2027-03-02", first_time="09:00", count="3")
    client.post(f"/schedule/patients/{patient.pk}/series/book/", plan)
    booked = list(Appointment.objects.order_by("start"))
    assert _local_starts(booked, clinic_tz) == [
        "2027-03-02 09:00",
        "2027-03-09 09:00",
        "2027-03-16 09:00",
    ]
    # New York moves to summer time on March 14: same wall clock, one hour earlier in UTC.
    assert [a.start.astimezone(dt.UTC).hour for a in booked] == [14, 14, 13]


def test_every_other_week_on_chosen_weekdays_until_a_date(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    plan = series.series_plan(
        schedule=schedule,
        appointment_type=follow_up,
        first_date=dt.date(2026, 11, 30),
        first_time=dt.time(11, 30),
        interval=2,
        weekdays=frozenset({0, 3}),
        count=None,
        until=dt.date(2026, 12, 28),
        now=NOW,
    )
    assert [f"{s:%a %b %d %H:%M}" for s in plan.starts] == [
        "Mon Nov 30 11:30",
        "Thu Dec 03 11:30",
        "Mon Dec 14 11:30",
        "Thu Dec 17 11:30",
        "Mon Dec 28 11:30",
    ]
    assert plan.rrule.endswith("RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20261228T235959;BYDAY=MO,TH")
    # The stored rule alone gives the same visits back (floating clinic local time).
    again = [when.replace(tzinfo=clinic_tz) for when in rrulestr(plan.rrule)]
    assert again == list(plan.starts)


def test_cancelling_the_rest_of_a_series_cancels_every_remaining_visit_with_the_reason(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    ClinicHoliday.objects.create(clinic=personas.clinic, date=dt.date(2026, 12, 22), name="Closed")
    client = client_for(personas.front_desk)
    client.post(
        f"/schedule/patients/{patient.pk}/series/book/",
        _plan(schedule, follow_up, first_date="2026-11-24", count="6"),
    )
    made = AppointmentSeries.objects.get()
    url = f"/schedule/series/{made.pk}/cancel/"

    refused = client.post(url, {"cancelled_by": "patient", "reason": ""})
    assert refused.status_code == 400
    assert "Say why the rest of the series is cancelled." in refused.content.decode()
    assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()

    # A week on, the first two visits are behind us (signed in again: sessions end when idle).
    with time_machine.travel(dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC), tick=False):
        response = client_for(personas.front_desk).post(
            url, {"cancelled_by": "patient", "reason": "moved away"}, follow=True
        )
    assert "Cancelled the 3 remaining appointment(s)." in response.content.decode()
    visits = {v.position: v for v in made.visits.select_related("appointment")}
    for number in (1, 2):  # in the past
        held = visits[number].appointment
        assert visits[number].status == SeriesVisitStatus.BOOKED
        assert held is not None and held.status == AppointmentStatus.BOOKED
    for number in (3, 4, 6):
        visit = visits[number]
        assert visit.status == SeriesVisitStatus.CANCELLED and visit.appointment is not None
        assert visit.appointment.status == AppointmentStatus.CANCELLED
        assert visit.appointment.cancel_reason == "moved away"
        assert visit.appointment.cancelled_by == "patient"
    # The visit on the closed day had no appointment; it is closed with the series, and no
    # appointment is made up for it.
    assert visits[5].status == SeriesVisitStatus.CANCELLED and visits[5].appointment is None
    assert visits[5].skip_reason == "Series cancelled: moved away"
    assert Appointment.objects.filter(series=made).count() == 5
    event = AuditEvent.objects.get(object_type="appointment_series", detail__reason="moved away")
    assert event.patient_ids == [patient.pk] and event.detail["cancelled_remaining"] == 3
    assert (
        AuditEvent.objects.filter(object_type="appointment", detail__reason="moved away").count()
        == 3
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": "0"}, "A series needs at least one visit."),
        ({"count": "", "until": "2026-11-30"}, "The last date is before the first visit."),
        ({"count": "53"}, "A series holds at most 52 visits; book 52 or fewer."),
        (
            {"count": "", "until": "2028-06-01"},
            "A series holds at most 52 visits; these choices make more.",
        ),
        (
            {"first_date": "2026-11-20"},
            "The first visit is in the past. Choose a date and time from now on.",
        ),
        (
            {"first_date": "2029-01-01"},
            "The first visit is more than two years away. Choose an earlier date.",
        ),
        ({"count": "", "until": ""}, "Say how many visits, or the date of the last one."),
        ({"until": "2027-01-05"}, "Give either a number of visits or a last date, not both."),
        ({"interval": "0"}, "Repeat every 1 to 12 weeks."),
        ({"count": "eight"}, "Type a whole number, for example 8."),
        ({"first_time": "25:99"}, "Type the time as HH:MM, for example 09:30."),
        ({"weekdays": ["9"]}, "Choose the days from the list."),
    ],
)
def test_bad_choices_get_a_clear_message_and_keep_what_was_typed(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
    changes: dict[str, Any],
    message: str,
) -> None:
    client = client_for(personas.front_desk)
    data = _plan(schedule, follow_up, **changes)
    for response in (
        client.get(f"/schedule/patients/{patient.pk}/series/", data),
        client.post(f"/schedule/patients/{patient.pk}/series/book/", data),
    ):
        html = response.content.decode()
        assert response.status_code == 400
        assert message in html
        assert 'value="10:00"' in html or 'value="25:99"' in html
        assert f'<option value="{follow_up.pk}" selected>' in html
    assert not Appointment.objects.exists() and not AppointmentSeries.objects.exists()


def test_a_provider_who_does_not_work_at_the_location_is_refused_in_words(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    elsewhere = Location.objects.create(clinic=personas.clinic, name="Eastside")
    response = client_for(personas.front_desk).get(
        f"/schedule/patients/{patient.pk}/series/",
        _plan(schedule, follow_up, location=elsewhere.pk),
    )
    assert response.status_code == 400
    assert "Dr Lee does not take bookings at Eastside." in response.content.decode()


def test_when_no_visit_is_free_nothing_is_booked_and_the_officer_is_told(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    # Saturdays: Dr Lee works Monday to Friday.
    data = _plan(schedule, follow_up, first_date="2026-11-28", count="2")
    client = client_for(personas.front_desk)
    assert (
        "None of these visits is free."
        in client.get(f"/schedule/patients/{patient.pk}/series/", data).content.decode()
    )
    response = client.post(f"/schedule/patients/{patient.pk}/series/book/", data)
    assert response.status_code == 409
    assert "nothing was booked" in response.content.decode()
    assert not AppointmentSeries.objects.exists() and not Appointment.objects.exists()


def test_staff_of_another_clinic_and_non_booking_roles_cannot_change_a_series(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client_for(personas.front_desk).post(
        f"/schedule/patients/{patient.pk}/series/book/", _plan(schedule, follow_up, count="2")
    )
    made = AppointmentSeries.objects.get()
    outsider = client_for(personas.outsider)
    assert outsider.get(f"/schedule/series/{made.pk}/").status_code == 404
    cancel = {"cancelled_by": "clinic", "reason": "x"}
    assert outsider.post(f"/schedule/series/{made.pk}/cancel/", cancel).status_code == 404
    nurse = client_for(personas.nurse)
    page = nurse.get(f"/schedule/series/{made.pk}/")
    assert page.status_code == 200 and "Cancel the remaining visits" not in page.content.decode()
    assert nurse.post(f"/schedule/series/{made.pk}/cancel/", cancel).status_code == 403
    assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()


def test_the_series_page_reads_a_fixed_number_of_queries_however_many_visits_are_booked(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    counts = []
    for visits in ("2", "8"):
        patient = make_patient(personas.clinic, given_name=f"Visits{visits}")
        first = "2026-12-01" if visits == "2" else "2026-12-02"
        client.post(
            f"/schedule/patients/{patient.pk}/series/book/",
            _plan(schedule, follow_up, first_date=first, count=visits),
        )
        made = AppointmentSeries.objects.get(patient=patient)
        client.get(f"/schedule/series/{made.pk}/")  # the session settles on the first visit
        with CaptureQueriesContext(connection) as queries:
            html = client.get(f"/schedule/series/{made.pk}/").content.decode()
        assert html.count("status-booked") == int(visits)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_opening_the_series_form_is_recorded_as_a_view_of_the_patient(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    response = client_for(personas.front_desk).get(f"/schedule/patients/{patient.pk}/series/")
    assert response.status_code == 200 and "Show the visits" in response.content.decode()
    assert AuditEvent.objects.filter(
        object_type="appointment_series_plan", patient_ids=[patient.pk]
    ).exists()


SERIES_FIELDS = [
    "appointment_type",
    "provider",
    "location",
    "first_date",
    "first_time",
    "interval",
    "weekdays",
    "count",
    "until",
]
ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)
SERIES_VALUES = st.one_of(
    ANY_TEXT,
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-12-01", "10:00", "23:59", "-1", "1e9"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(st.sampled_from(SERIES_FIELDS), SERIES_VALUES, max_size=4))
def test_the_series_pages_survive_any_input(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    changes: dict[str, str],
) -> None:
    client = login_client(Client(), personas.front_desk)
    data = _plan(schedule, follow_up, **{"count": "2", **changes})
    preview = client.get(f"/schedule/patients/{patient.pk}/series/", data)
    assert preview.status_code in (200, 400)
    booked = client.post(f"/schedule/patients/{patient.pk}/series/book/", data)
    assert booked.status_code in (302, 400, 409)
    made = AppointmentSeries.objects.filter(patient=patient).first()
    if made is not None:
        for post in (
            {"visit": changes.get("count", "1"), "start": changes.get("first_date", "")},
            {"visit": "1", "start": "9999-12-31T10:00:00+00:00"},
            {"visit": "2", "skip": "yes", "reason": changes.get("until", "")},
        ):
            resolved = client.post(f"/schedule/series/{made.pk}/resolve/", post)
            assert resolved.status_code in (302, 404)
        cancel = {
            "cancelled_by": changes.get("provider", "x"),
            "reason": changes.get("interval", ""),
        }
        assert client.post(f"/schedule/series/{made.pk}/cancel/", cancel).status_code in (302, 400)
        assert client.get(f"/schedule/series/{made.pk}/").status_code == 200


def _booked_series(
    client: Client, patient: Patient, schedule: Schedule, kind: AppointmentType, **changes: Any
) -> AppointmentSeries:
    client.post(f"/schedule/patients/{patient.pk}/series/book/", _plan(schedule, kind, **changes))
    return AppointmentSeries.objects.get(patient=patient)


def test_the_database_refuses_a_place_taken_twice_a_place_zero_and_booked_without_appointment(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    made = _booked_series(client_for(personas.front_desk), patient, schedule, follow_up, count="2")
    first = made.visits.get(position=1)
    later = first.planned_start + dt.timedelta(weeks=5)
    refused: list[dict[str, Any]] = [
        {"position": 1, "status": SeriesVisitStatus.SKIPPED},  # the same place again
        {"position": 0, "status": SeriesVisitStatus.CONFLICT},  # positions start at 1
        {"position": 3, "status": SeriesVisitStatus.BOOKED},  # booked, but no appointment
        # A skipped visit never holds an appointment, let alone one of another visit.
        {"position": 3, "status": SeriesVisitStatus.SKIPPED, "appointment_id": 10**9},
    ]
    for fields in refused:
        with pytest.raises(IntegrityError), transaction.atomic():
            SeriesVisit.objects.create(series=made, planned_start=later, **fields)
    # One appointment belongs to one visit only.
    with pytest.raises(IntegrityError), transaction.atomic():
        SeriesVisit.objects.create(
            series=made,
            position=3,
            planned_start=later,
            status=SeriesVisitStatus.BOOKED,
            appointment_id=first.appointment_id,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentSeries.objects.filter(pk=made.pk).update(count=2, until=dt.date(2027, 1, 5))
    assert made.visits.count() == 2


def test_nothing_is_read_back_from_the_note_so_editing_it_changes_no_visit(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    ClinicHoliday.objects.create(clinic=personas.clinic, date=dt.date(2026, 12, 8), name="Closed")
    client = client_for(personas.front_desk)
    made = _booked_series(client, patient, schedule, follow_up, count="3")
    # Someone rewrites the notes, even to claim another visit's place.
    Appointment.objects.filter(series=made).update(note="Series visit 2 of 3 (wheelchair)")
    page = series.series_page(context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk)
    assert [(row.number, row.state) for row in page.rows] == [
        (1, "booked"),
        (2, "unresolved"),
        (3, "booked"),
    ]
    option = page.unresolved[0].options[0]
    response = client.post(
        f"/schedule/series/{made.pk}/resolve/",
        {"visit": "2", "start": option.start.isoformat()},
        follow=True,
    )
    assert "Visit 2 booked" in response.content.decode()
    second = made.visits.select_related("appointment").get(position=2)
    assert second.appointment is not None and second.appointment.start == option.start


def test_a_booked_visit_moved_on_the_appointment_page_keeps_its_planned_time_and_shows_as_moved(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    made = _booked_series(client, patient, schedule, follow_up, count="2")
    second = made.visits.select_related("appointment").get(position=2)
    assert second.appointment is not None
    services.appointment_reschedule(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=second.appointment,
        schedule=schedule,
        start=dt.datetime(2026, 12, 9, 14, tzinfo=clinic_tz),
        reason="patient asked",
    )
    second.refresh_from_db()
    assert second.status == SeriesVisitStatus.BOOKED
    assert second.planned_start == dt.datetime(2026, 12, 8, 10, tzinfo=clinic_tz)
    page = series.series_page(context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk)
    assert [row.state for row in page.rows] == ["booked", "moved"]
    html = client.get(f"/schedule/series/{made.pk}/").content.decode()
    assert "Booked at another time" in html and "Wed Dec 9, 2026 14:00" in html


def test_a_series_until_a_date_keeps_the_last_date_and_who_booked_it(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    made = _booked_series(client, patient, schedule, follow_up, count="", until="2026-12-15")
    assert (made.count, made.until) == (None, dt.date(2026, 12, 15))
    assert made.created_by_id == personas.front_desk.pk
    assert list(made.visits.values_list("position", flat=True)) == [1, 2, 3]
    html = client.get(f"/schedule/series/{made.pk}/").content.decode()
    assert "until Dec 15, 2026" in html and "Follow-up visit series" in html
    assert "Mei Lee, MD at Northside" in html


def test_series_saved_before_visits_were_recorded_are_filled_in_by_the_migration(
    transactional_audit: None,
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    before = [("scheduling", "0003_waitlist_entries_and_offers")]
    after = [("scheduling", "0004_series_visits")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldSeries = old.get_model("scheduling", "AppointmentSeries")  # noqa: N806
        OldAppointment = old.get_model("scheduling", "Appointment")  # noqa: N806
        OldHistory = old.get_model("scheduling", "AppointmentHistory")  # noqa: N806
        legacy = OldSeries.objects.create(
            patient_id=patient.pk,
            rrule="DTSTART:20261201T100000\nRRULE:FREQ=WEEKLY;COUNT=4",
            created_at=NOW,
        )
        bare = OldSeries.objects.create(
            patient_id=patient.pk,
            rrule="DTSTART:20261201T100000\nRRULE:FREQ=WEEKLY",
            created_at=NOW,
        )

        def old_row(day: int, hour: int, note: str, status: str = "booked", why: str = "") -> Any:
            start = dt.datetime(2026, 12, day, hour, tzinfo=clinic_tz)
            row = OldAppointment.objects.create(
                clinic_id=personas.clinic.pk,
                patient_id=patient.pk,
                schedule_id=schedule.pk,
                provider_id=schedule.provider_id,
                appointment_type_id=follow_up.pk,
                start=start,
                end=start + dt.timedelta(minutes=30),
                busy_start=start,
                busy_end=start + dt.timedelta(minutes=30),
                status=status,
                series_id=legacy.pk,
                note=note,
                cancel_reason=why,
                created_at=NOW,
                updated_at=NOW,
            )
            OldHistory.objects.create(
                appointment=row, at=NOW, by_id=personas.front_desk.pk, to_status=status
            )
            return row

        first = old_row(1, 10, "Series visit 1 of 4")
        old_row(8, 10, "Series visit 2 of 4", "cancelled", "Skipped: patient away")
        moved = old_row(23, 15, "Series visit 4 of 4, in place of Tue Dec 22 10:00")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    made = AppointmentSeries.objects.get()
    assert made.pk == legacy.pk and not AppointmentSeries.objects.filter(pk=bare.pk).exists()
    assert (made.schedule_id, made.appointment_type_id) == (schedule.pk, follow_up.pk)
    assert (made.count, made.until, made.created_by_id) == (4, None, personas.front_desk.pk)
    visits = list(made.visits.order_by("position"))
    assert [(v.position, v.status, v.appointment_id, v.skip_reason) for v in visits] == [
        (1, SeriesVisitStatus.BOOKED, first.pk, ""),
        (2, SeriesVisitStatus.SKIPPED, None, "patient away"),
        (3, SeriesVisitStatus.CONFLICT, None, ""),
        (4, SeriesVisitStatus.BOOKED, moved.pk, ""),
    ]
    assert [v.planned_start.astimezone(clinic_tz).day for v in visits] == [1, 8, 15, 22]
    page = series.series_page(context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk)
    assert [row.state for row in page.rows[:4]] == ["booked", "skipped", "unresolved", "moved"]


def _held(made: AppointmentSeries) -> dict[int, int]:
    """Each visit's appointment, by the visit's place in the series."""
    found: dict[int, int] = {}
    for visit in made.visits.all():
        assert visit.appointment_id is not None
        found[visit.position] = visit.appointment_id
    return found


def _status_cells(html: str) -> list[str]:
    """The Status column of the series page's visits table, as text."""
    cells = re.findall(r'<td class="visit-status">(.*?)</td>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def test_visits_cancelled_marked_no_show_or_moved_on_the_appointment_page_show_so_on_the_series(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    made = _booked_series(client, patient, schedule, follow_up, count="4")
    held = _held(made)
    cancelled = client.post(
        f"/schedule/appointments/{held[3]}/cancel/",
        {"cancelled_by": "patient", "reason": "away that week"},
        follow=True,
    )
    assert "Cancelled; the time is free again." in cancelled.content.decode()
    moved_to = dt.datetime(2026, 12, 23, 14, tzinfo=clinic_tz)
    client.post(
        f"/schedule/appointments/{held[4]}/move/",
        {"schedule": schedule.pk, "start": moved_to.isoformat(), "reason": "patient asked"},
    )
    # The second visit's day: the patient does not come.
    with time_machine.travel(dt.datetime(2026, 12, 8, 17, tzinfo=dt.UTC), tick=False):
        desk = client_for(personas.front_desk)
        desk.post(f"/schedule/appointments/{held[2]}/no-show/")
        page = series.series_page(
            context=SYSTEM_CONTEXT, user=personas.front_desk, series_id=made.pk
        )
        assert [row.state for row in page.rows] == ["booked", "noshow", "cancelled", "moved"]
        assert page.remaining == 1  # only the moved visit is still to come
        html = desk.get(f"/schedule/series/{made.pk}/").content.decode()
        assert _status_cells(html) == [
            "Booked",
            "No-show",
            "Cancelled away that week",
            "Booked at another time",
        ]
        assert "Cancels every visit from now on (1)." in html

        # Cancelling the rest leaves the visits already cancelled or missed as they were.
        response = desk.post(
            f"/schedule/series/{made.pk}/cancel/",
            {"cancelled_by": "clinic", "reason": "course ended"},
            follow=True,
        )
        assert "Cancelled the 1 remaining appointment(s)." in response.content.decode()
        appointments = {a.pk: a for a in Appointment.objects.filter(series=made)}
        assert appointments[held[1]].status == AppointmentStatus.BOOKED  # in the past
        assert appointments[held[2]].status == AppointmentStatus.NOSHOW
        assert appointments[held[3]].cancel_reason == "away that week"
        assert appointments[held[4]].status == AppointmentStatus.CANCELLED
        assert appointments[held[4]].cancel_reason == "course ended"
        event = AuditEvent.objects.get(
            object_type="appointment_series", detail__reason="course ended"
        )
        assert event.detail["cancelled_visits"] == [4]
        assert _status_cells(desk.get(f"/schedule/series/{made.pk}/").content.decode()) == [
            "Booked",
            "No-show",
            "Cancelled away that week",
            "Cancelled course ended",
        ]
        again = desk.post(
            f"/schedule/series/{made.pk}/cancel/",
            {"cancelled_by": "clinic", "reason": "course ended"},
            follow=True,
        )
        assert "No visit of this series is left to cancel." in again.content.decode()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one writer at a time: no race"
)
def test_cancelling_the_rest_while_a_visit_is_cancelled_on_its_page_skips_that_visit(
    transactional_audit: None,
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    made = _booked_series(client_for(personas.front_desk), patient, schedule, follow_up, count="3")
    held = _held(made)
    page_cancelled = threading.Event()
    rest_waits = threading.Event()
    outcome: dict[str, object] = {}

    def from_the_appointment_page() -> None:
        try:
            with transaction.atomic():
                services.appointment_cancel(
                    context=SYSTEM_CONTEXT,
                    user=personas.front_desk,
                    appointment=Appointment.objects.get(pk=held[2]),
                    cancelled_by=CancelledBy.PATIENT,
                    reason="sick",
                )
                page_cancelled.set()
                rest_waits.wait(timeout=30)
        finally:
            connection.close()

    def the_rest_of_the_series() -> None:
        try:
            outcome["cancelled"] = series.series_cancel_remaining(
                context=SYSTEM_CONTEXT,
                user=personas.front_desk,
                series_id=made.pk,
                cancelled_by=CancelledBy.CLINIC,
                reason="course ended",
            )
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    page = threading.Thread(target=from_the_appointment_page)
    page.start()
    assert page_cancelled.wait(timeout=30)
    rest = threading.Thread(target=the_rest_of_the_series)
    rest.start()
    # The page's cancellation has not committed yet; go on once the series waits for it.
    for _ in range(20_000):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            (waiting,) = cursor.fetchone()
        if waiting:
            break
    else:
        pytest.fail("cancelling the rest never waited for the page's cancellation")
    rest_waits.set()
    page.join()
    rest.join()
    assert outcome == {"cancelled": 2}
    appointments = {a.pk: a for a in Appointment.objects.filter(series=made)}
    assert appointments[held[2]].cancel_reason == "sick"
    assert {appointments[held[n]].cancel_reason for n in (1, 3)} == {"course ended"}
