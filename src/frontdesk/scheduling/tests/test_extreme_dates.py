"""Dates at the ends of the calendar, typed or linked, get a page, never a server error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.clinic.models import AppointmentType
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Schedule

EXTREMES = ["0001-01-01", "0001-01-02", "9999-12-27", "9999-12-31"]


@pytest.mark.parametrize("day", EXTREMES)
def test_the_day_and_week_views_answer_for_any_date(
    day: str,
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    for url, params in (
        ("/schedule/", {"date": day}),
        ("/schedule/week/", {"date": day, "provider": str(schedule.provider_id)}),
        ("/flow/", {"date": day}),
    ):
        response = client.get(url, params)
        assert response.status_code in {200, 400, 404}, (url, day, response.status_code)


@pytest.mark.parametrize("day", EXTREMES)
def test_booking_and_finding_pages_answer_for_any_date(
    day: str,
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    start = f"{day}T12:00:00+00:00"
    answers = [
        client.get(
            "/schedule/week/book/",
            {"schedule": str(schedule.pk), "start": start},
        ),
        client.get(
            "/schedule/week/book/",
            {"schedule": str(schedule.pk), "start": start, "appointment_type": str(follow_up.pk)},
        ),
        client.post(
            f"/schedule/patients/{patient.pk}/book/",
            {"schedule": str(schedule.pk), "appointment_type": str(follow_up.pk), "start": start},
        ),
        client.get(
            f"/schedule/patients/{patient.pk}/find/",
            {"appointment_type": str(follow_up.pk), "date_from": day, "date_to": day},
        ),
    ]
    for response in answers:
        assert response.status_code < 500


def test_finding_a_time_years_ahead_is_refused_in_words(
    personas: Personas,
    patient: Patient,
    follow_up: AppointmentType,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(personas.front_desk)
    response = client.get(
        f"/schedule/patients/{patient.pk}/find/",
        {"appointment_type": str(follow_up.pk), "date_from": "2100-01-01"},
    )
    assert response.status_code == 400
    assert "Search from a date within the next two years." in response.content.decode()
    response = client.get(
        f"/schedule/patients/{patient.pk}/find/",
        {"appointment_type": str(follow_up.pk), "date_from": "9999-12-31"},
    )
    assert response.status_code == 400
    assert "Check the year: it should be between 1800 and 2200." in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_set_up_forms_answer_for_any_date(
    day: str,
    personas: Personas,
    schedule: Schedule,
    client_for: Callable[[User], Client],
) -> None:
    admin = client_for(personas.admin)
    posts = [
        ("/schedule/setup/holidays/", {"date": day, "name": "Far away"}),
        (
            "/schedule/setup/blocks/leave/",
            {
                "provider": str(schedule.provider_id),
                "first_day": "2026-12-01",
                "last_day": day,
                "reason": "Away",
            },
        ),
        (
            "/schedule/setup/blocks/add/",
            {
                "kind": "adhoc",
                "schedule": str(schedule.pk),
                "day": day,
                "start_time": "09:00",
                "end_time": "11:00",
                "repeat_until": "",
                "release_days_before": "",
                "reason": "Far away",
            },
        ),
        (
            "/schedule/setup/hours/add/",
            {
                "provider": str(schedule.provider_id),
                "location": str(schedule.location_id),
                "weekdays": ["5"],
                "every_weeks": "1",
                "rrule": "",
                "start_time": "18:00",
                "end_time": "19:00",
                "valid_from": day,
                "valid_until": "",
                "slot_minutes": "20",
                "overbook_cap": "1",
            },
        ),
    ]
    for url, data in posts:
        response = admin.post(url, data)
        assert response.status_code < 500, (url, day)
