"""Callbacks: each attempt logged, the next one scheduled, the supervisors' after the clinic's
maximum attempts; reached, the callback leaves the desk queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.desk import CallbackSource
from frontdesk.inquiries.models import Callback, InquirySettings
from frontdesk.inquiries.red_flags import DEFAULT_RED_FLAGS
from frontdesk.inquiries.services import InquiryRefusedError, callback_attempt_log
from frontdesk.patients.models import Patient

from .helpers import log_call, rows

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)


def _callback(personas: Personas, patient: Patient) -> Callback:
    return Callback.objects.get(inquiry=log_call(personas.front_desk, patient, now=NOW))


def _attempt(personas: Personas, callback: Callback, outcome: str, **kw: object) -> Callback:
    return callback_attempt_log(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        callback_id=callback.pk,
        outcome=outcome,
        **kw,  # type: ignore[arg-type]
    )


def test_no_answer_schedules_the_next_attempt_after_the_clinics_pause(
    personas: Personas, patient: Patient
) -> None:
    callback = _callback(personas, patient)
    later = NOW + dt.timedelta(minutes=5)
    after = _attempt(personas, callback, "no_answer", now=later)
    assert (after.status, after.attempts, after.pool) == ("in-progress", 1, "desk")
    assert after.due == later + dt.timedelta(minutes=60)
    (row,) = rows(CallbackSource(), personas.clinic.pk, later)
    assert row["due"] == after.due


def test_the_officer_may_choose_the_next_attempt_but_never_in_the_past(
    personas: Personas, patient: Patient
) -> None:
    callback = _callback(personas, patient)
    with pytest.raises(InquiryRefusedError, match="already passed"):
        _attempt(personas, callback, "voicemail", now=NOW, next_due=NOW - dt.timedelta(hours=1))
    callback.refresh_from_db()
    assert callback.attempts == 0
    chosen = NOW + dt.timedelta(hours=3)
    assert _attempt(personas, callback, "voicemail", now=NOW, next_due=chosen).due == chosen


def test_after_the_clinics_maximum_attempts_it_goes_to_the_supervisors(
    personas: Personas, patient: Patient
) -> None:
    callback = _callback(personas, patient)
    for minutes in (10, 80):
        after = _attempt(personas, callback, "no_answer", now=NOW + dt.timedelta(minutes=minutes))
        assert after.pool == "desk"
    third = _attempt(personas, callback, "voicemail", now=NOW + dt.timedelta(minutes=150))
    assert (third.attempts, third.pool) == (3, "supervisors")
    (row,) = rows(CallbackSource(), personas.clinic.pk, NOW + dt.timedelta(minutes=150))
    assert row["pool"] == "supervisors"


def test_the_maximum_is_the_clinics_own_setting(personas: Personas, patient: Patient) -> None:
    InquirySettings.objects.create(
        clinic=personas.clinic,
        callback_max_attempts=1,
        red_flag_phrases=DEFAULT_RED_FLAGS,
        updated_at=NOW,
    )
    callback = _callback(personas, patient)
    assert _attempt(personas, callback, "no_answer", now=NOW).pool == "supervisors"


def test_a_callback_leaves_the_queue_when_the_patient_is_reached(
    personas: Personas, patient: Patient
) -> None:
    callback = _callback(personas, patient)
    _attempt(personas, callback, "no_answer", now=NOW)
    done = _attempt(personas, callback, "reached", now=NOW + dt.timedelta(hours=1))
    assert (done.status, done.completed_at) == ("completed", NOW + dt.timedelta(hours=1))
    assert rows(CallbackSource(), personas.clinic.pk, NOW + dt.timedelta(hours=1)) == []
    with pytest.raises(InquiryRefusedError, match="already done"):
        _attempt(personas, callback, "reached", now=NOW + dt.timedelta(hours=2))
    assert callback.attempt_log.count() == 2


def test_the_callback_page_logs_an_attempt_and_refuses_a_past_time_in_words(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    callback = _callback(personas, patient)
    client = client_for(personas.front_desk)
    url = reverse("inquiries:callback", args=[callback.pk])
    refused = client.post(
        url, {"outcome": "no_answer", "note": "rang 6 times", "next_due": "2020-01-01T09:00"}
    )
    assert refused.status_code == 200
    assert "That time has already passed" in refused.content.decode()
    assert "rang 6 times" in refused.content.decode()
    done = client.post(url, {"outcome": "reached"})
    assert done.status_code == 302
    callback.refresh_from_db()
    assert callback.status == "completed"
    listing = client.get(reverse("inquiries:callbacks")).content.decode()
    assert "No callbacks owed" in listing


def test_another_clinics_callback_is_not_found(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    callback = _callback(personas, patient)
    client = client_for(personas.outsider)
    url = reverse("inquiries:callback", args=[callback.pk])
    assert client.get(url).status_code == 404
    client.post(url, {"outcome": "reached"})
    callback.refresh_from_db()
    assert callback.status == "requested"


def test_the_callback_and_call_pages_show_the_number_as_people_dial_it(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    callback = _callback(personas, patient)
    assert callback.phone == "+12025550143"  # stored as E.164
    client = client_for(personas.front_desk)
    for url in (
        reverse("inquiries:callback", args=[callback.pk]),
        reverse("inquiries:call", args=[callback.inquiry_id]),
    ):
        html = client.get(url).content.decode()
        assert "(202) 555-0143" in html
        assert "+12025550143" not in html


def test_the_callbacks_list_marks_a_restricted_records_callback(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    _callback(personas, patient)
    client = client_for(personas.front_desk)
    listing = client.get(reverse("inquiries:callbacks")).content.decode()
    assert '<span class="tag">Restricted</span>' not in listing
    patient.confidentiality = "restricted"
    patient.save()
    listing = client.get(reverse("inquiries:callbacks")).content.decode()
    assert '<span class="tag">Restricted</span>' in listing
